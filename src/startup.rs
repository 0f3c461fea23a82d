//! The application: one factory used by `serve` and by every test.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use sqlx::PgPool;

use crate::auth::{self, Authenticator};
use crate::body_deadline::{self, BodyTimeout};
use crate::db::reads::ListReads;
use crate::metrics::{self, Metrics};
use crate::request_id;
use crate::routes;
use crate::settings::Settings;

pub struct Application {
    address: SocketAddr,
    server: Server,
    list_reads: Arc<ListReads>,
    /// The `/metrics` listener, when `server.metrics_listen` is set.
    metrics: Option<MetricsServer>,
}

struct MetricsServer {
    address: SocketAddr,
    server: Server,
    upkeep: tokio::task::JoinHandle<()>,
}

impl Application {
    /// Stores the bootstrap credentials, binds `settings.server.listen` (port 0 picks a free
    /// port) and builds the server.
    pub async fn build(settings: &Settings, pool: PgPool) -> anyhow::Result<Application> {
        auth::bootstrap(&pool, &settings.auth).await?;
        let listener = TcpListener::bind(settings.listen_addr()?)?;
        let address = listener.local_addr()?;
        let metrics_listener = settings.metrics_addr()?.map(TcpListener::bind).transpose()?;
        let metrics_data = if metrics_listener.is_some() { Metrics::enabled() } else { Metrics::disabled() };
        let metrics = web::Data::new(metrics_data.clone());
        let shutdown_timeout_secs = settings.server.shutdown_timeout_secs;
        let body_limit = settings.server.body_limit_bytes;
        let authenticator = web::Data::new(Authenticator::new(pool.clone(), settings.auth.clone(), body_limit));
        let scrape_pool = pool.clone();
        let list_reads = web::Data::new(ListReads::new(pool.clone(), &settings.database, metrics_data.clone())?);
        let pool = web::Data::new(pool);
        let reads = list_reads.clone();
        let body_timeout = web::Data::new(BodyTimeout(Duration::from_secs(settings.server.body_timeout_secs)));
        let mut server = HttpServer::new(move || {
            App::new()
                // Outermost last: the request id wraps everything, including a timed-out body;
                // the metrics middleware, inside it, sees the handlers' own errors.
                .wrap(from_fn(body_deadline::middleware))
                .wrap(from_fn(metrics::middleware))
                .wrap(from_fn(request_id::middleware))
                .app_data(body_timeout.clone())
                .app_data(pool.clone())
                .app_data(metrics.clone())
                .app_data(reads.clone())
                .app_data(authenticator.clone())
                .app_data(web::PayloadConfig::new(body_limit))
                .configure(routes::configure)
        })
        .listen(listener)?
        .shutdown_timeout(shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        let server = server.run();
        // Started once the API server is: a failed build leaves no metrics server behind.
        let metrics = match metrics_listener {
            None => None,
            Some(listener) => Some(MetricsServer {
                address: listener.local_addr()?,
                server: metrics::server(listener, metrics_data.clone(), scrape_pool, shutdown_timeout_secs)?,
                upkeep: metrics::spawn_upkeep(metrics_data),
            }),
        };
        Ok(Application { address, server, metrics, list_reads: list_reads.into_inner() })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where list pages are read, with its counters (replica reads, fallbacks).
    pub fn list_reads(&self) -> Arc<ListReads> {
        self.list_reads.clone()
    }

    /// The address of the `/metrics` listener, `None` when metrics are off.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|m| m.address)
    }

    /// Serves until SIGTERM / Ctrl-C, then lets in-flight requests finish; the metrics listener
    /// stops after the API.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Some(metrics) = self.metrics else { return self.server.await };
        let handle = metrics.server.handle();
        let scrapes = tokio::spawn(metrics.server);
        let served = self.server.await;
        handle.stop(true).await;
        metrics.upkeep.abort();
        let _ = scrapes.await;
        served
    }
}
