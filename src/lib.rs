//! sms-tasks: the Server Migration Service (SMS) v3 task API over PostgreSQL.

pub mod auth;
pub mod body_deadline;
pub mod cli;
pub mod db;
pub mod error;
pub mod extract;
pub mod healthcheck;
pub mod metrics;
pub mod model;
pub mod openapi;
pub mod parse;
pub mod request_id;
pub mod routes;
pub mod seed;
pub mod settings;
pub mod startup;
pub mod store;
pub mod telemetry;
