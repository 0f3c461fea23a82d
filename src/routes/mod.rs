//! HTTP routes: one module per resource.

mod agent;
mod health;
mod lifecycle;
mod migprojects;
mod openapi;
mod path;
mod query;
mod sources;
mod task_settings;
mod tasks;
mod templates;

use actix_web::middleware::from_fn;
use actix_web::{web, HttpResponse};

use crate::auth;
use crate::error::ApiError;

/// Every operation of [`configure`], for the OpenAPI document (`crate::openapi`).
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    health::alive,
    health::ready,
    openapi::document,
    tasks::list,
    tasks::create,
    tasks::delete_many,
    tasks::show,
    tasks::update,
    tasks::delete,
    lifecycle::act,
    lifecycle::collect_log,
    lifecycle::report_progress,
    sources::list,
    sources::register,
    sources::delete_many,
    sources::overview,
    sources::show,
    sources::update,
    sources::delete,
    sources::change_state,
    sources::replace_disk_info,
    agent::next_command,
    agent::command_result,
    sources::errors,
    task_settings::show_speed_limits,
    task_settings::update_speed_limits,
    task_settings::show_configurations,
    task_settings::upload_configurations,
    task_settings::show_passphrase,
    migprojects::list,
    migprojects::create,
    migprojects::show,
    migprojects::update,
    migprojects::delete,
    migprojects::make_default,
    templates::list,
    templates::create,
    templates::delete_many,
    templates::show,
    templates::update,
    templates::delete,
    templates::target_password,
    task_settings::update_network_check,
))]
pub struct ApiPaths;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").get(health::alive).to(method_not_allowed))
        .service(web::resource("/health/ready").get(health::ready).to(method_not_allowed))
        .service(web::resource("/openapi.json").get(openapi::document).to(method_not_allowed))
        .service(web::scope("/v3").wrap(from_fn(auth::middleware)).configure(api))
        .default_service(web::to(no_such_api));
}

/// The API under `/v3`, every request authenticated.
fn api(cfg: &mut web::ServiceConfig) {
    // Fixed paths before the `{id}` paths they would otherwise match.
    cfg.service(web::resource("/tasks").get(tasks::list).post(tasks::create).to(method_not_allowed))
        .service(web::resource("/tasks/delete").post(tasks::delete_many).to(method_not_allowed))
        .service(
            web::resource("/tasks/{task_id}")
                .get(tasks::show)
                .put(tasks::update)
                .delete(tasks::delete)
                .to(method_not_allowed),
        )
        .service(web::resource("/tasks/{task_id}/action").post(lifecycle::act).to(method_not_allowed))
        .service(web::resource("/tasks/{task_id}/log").post(lifecycle::collect_log).to(method_not_allowed))
        .service(web::resource("/tasks/{task_id}/progress").put(lifecycle::report_progress).to(method_not_allowed))
        .service(web::resource("/sources").get(sources::list).post(sources::register).to(method_not_allowed))
        .service(web::resource("/sources/delete").post(sources::delete_many).to(method_not_allowed))
        // Before `/sources/{source_id}`, so that `overview` is not taken for an id.
        .service(web::resource("/sources/overview").get(sources::overview).to(method_not_allowed))
        .service(
            web::resource("/sources/{source_id}")
                .get(sources::show)
                .put(sources::update)
                .delete(sources::delete)
                .to(method_not_allowed),
        )
        .service(web::resource("/sources/{source_id}/changestate").put(sources::change_state).to(method_not_allowed))
        .service(web::resource("/sources/{source_id}/diskinfo").put(sources::replace_disk_info).to(method_not_allowed))
        .service(web::resource("/sources/{source_id}/command").get(agent::next_command).to(method_not_allowed))
        .service(
            web::resource("/sources/{source_id}/command_result").post(agent::command_result).to(method_not_allowed),
        )
        .service(web::resource("/errors").get(sources::errors).to(method_not_allowed))
        .service(
            web::resource("/tasks/{task_id}/speed-limit")
                .get(task_settings::show_speed_limits)
                .post(task_settings::update_speed_limits)
                .to(method_not_allowed),
        )
        .service(
            web::resource("/tasks/{task_id}/configuration-setting")
                .get(task_settings::show_configurations)
                .post(task_settings::upload_configurations)
                .to(method_not_allowed),
        )
        .service(
            web::resource("/tasks/{task_id}/passphrase").get(task_settings::show_passphrase).to(method_not_allowed),
        )
        .configure(migproject_routes)
        .service(web::resource("/vm/templates").get(templates::list).post(templates::create).to(method_not_allowed))
        .service(web::resource("/vm/templates/delete").post(templates::delete_many).to(method_not_allowed))
        .service(
            web::resource("/vm/templates/{id}")
                .get(templates::show)
                .put(templates::update)
                .delete(templates::delete)
                .to(method_not_allowed),
        )
        .service(
            web::resource("/vm/templates/{id}/target-password").get(templates::target_password).to(method_not_allowed),
        )
        // Without `/tasks/` (as the SDK sends it). Resources match in the order registered, so
        // this one, last, never takes a path that another `/v3/{a}/{b}` resource serves.
        .service(
            web::resource("/{task_id}/update-network-check-info")
                .post(task_settings::update_network_check)
                .to(method_not_allowed),
        )
        .default_service(web::to(no_such_api));
}

/// `/v3/migprojects` (migration projects).
fn migproject_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/migprojects").get(migprojects::list).post(migprojects::create).to(method_not_allowed))
        .service(
            web::resource("/migprojects/{mig_project_id}")
                .get(migprojects::show)
                .put(migprojects::update)
                .delete(migprojects::delete)
                .to(method_not_allowed),
        )
        .service(
            web::resource("/migprojects/{mig_project_id}/default")
                .put(migprojects::make_default)
                .to(method_not_allowed),
        );
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}

async fn no_such_api() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NoSuchApi)
}
