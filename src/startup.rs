//! The application: one factory used by `serve` and by every test.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpServer};
use sqlx::PgPool;

use crate::auth::{self, Authenticator};
use crate::metrics::{self, Metrics};
use crate::request_id;
use crate::routes;
use crate::settings::Settings;

pub struct Application {
    address: SocketAddr,
    server: Server,
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
        let (metrics, metrics_server) = match settings.metrics_addr()? {
            None => (Metrics::disabled(), None),
            Some(addr) => {
                let listener = TcpListener::bind(addr)?;
                let metrics = Metrics::enabled();
                let address = listener.local_addr()?;
                let server =
                    metrics::server(listener, metrics.clone(), pool.clone(), settings.server.shutdown_timeout_secs)?;
                let upkeep = metrics::spawn_upkeep(metrics.clone());
                (metrics, Some(MetricsServer { address, server, upkeep }))
            }
        };
        let metrics = web::Data::new(metrics);
        let body_limit = settings.server.body_limit_bytes;
        let authenticator = web::Data::new(Authenticator::new(pool.clone(), settings.auth.clone(), body_limit));
        let pool = web::Data::new(pool);
        let mut server = HttpServer::new(move || {
            App::new()
                // Inside the request-id middleware: it sees the handlers' own errors.
                .wrap(from_fn(metrics::middleware))
                .wrap(from_fn(request_id::middleware))
                .app_data(pool.clone())
                .app_data(metrics.clone())
                .app_data(authenticator.clone())
                .app_data(web::PayloadConfig::new(body_limit))
                .configure(routes::configure)
        })
        .listen(listener)?
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        Ok(Application { address, server: server.run(), metrics: metrics_server })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
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
