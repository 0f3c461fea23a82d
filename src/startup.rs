//! The application: one factory used by `serve` and by every test.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use sqlx::PgPool;

use crate::auth::{self, Authenticator};
use crate::db::reads::ListReads;
use crate::request_id;
use crate::routes;
use crate::settings::Settings;

pub struct Application {
    address: SocketAddr,
    server: Server,
    list_reads: Arc<ListReads>,
}

impl Application {
    /// Stores the bootstrap credentials, binds `settings.server.listen` (port 0 picks a free
    /// port) and builds the server.
    pub async fn build(settings: &Settings, pool: PgPool) -> anyhow::Result<Application> {
        auth::bootstrap(&pool, &settings.auth).await?;
        let listener = TcpListener::bind(settings.listen_addr()?)?;
        let address = listener.local_addr()?;
        let body_limit = settings.server.body_limit_bytes;
        let authenticator = web::Data::new(Authenticator::new(pool.clone(), settings.auth.clone(), body_limit));
        let list_reads = web::Data::new(ListReads::new(pool.clone(), &settings.database)?);
        let pool = web::Data::new(pool);
        let reads = list_reads.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(request_id::middleware))
                .app_data(pool.clone())
                .app_data(reads.clone())
                .app_data(authenticator.clone())
                .app_data(web::PayloadConfig::new(body_limit))
                .configure(routes::configure)
        })
        .listen(listener)?
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        Ok(Application { address, server: server.run(), list_reads: list_reads.into_inner() })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where list pages are read, with its counters (replica reads, fallbacks).
    pub fn list_reads(&self) -> Arc<ListReads> {
        self.list_reads.clone()
    }

    /// Serves until SIGTERM / Ctrl-C, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
