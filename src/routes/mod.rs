//! HTTP routes: one module per resource.

mod health;
mod query;
mod sources;
mod tasks;

use actix_web::{web, HttpResponse};

use crate::error::ApiError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").get(health::alive).to(method_not_allowed))
        .service(web::resource("/health/ready").get(health::ready).to(method_not_allowed))
        .service(web::resource("/v3/tasks").get(tasks::list).post(tasks::create).to(method_not_allowed))
        .service(web::resource("/v3/tasks/{task_id}").get(tasks::show).put(tasks::update).to(method_not_allowed))
        .service(web::resource("/v3/sources").get(sources::list).post(sources::register).to(method_not_allowed))
        .service(web::resource("/v3/sources/{source_id}").get(sources::show).to(method_not_allowed))
        .default_service(web::to(no_such_api));
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

async fn no_such_api() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NoSuchApi)
}
