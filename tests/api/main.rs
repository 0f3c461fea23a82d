//! End-to-end tests of the API: a real server over HTTP on a real PostgreSQL.

mod fixtures;
mod helpers;
mod venv;

mod atomicity;
mod counts;
mod create_round_trip;
mod create_validation;
mod faults;
mod fuzz;
mod instances;
mod lifecycle;
mod list;
mod metrics;
mod migprojects;
mod openapi;
mod pgbouncer;
mod replica;
mod sdk_suite;
mod seeding;
mod signing;
mod smoke;
mod source_ops;
mod source_rules;
mod startup;
mod task_settings;
mod templates;
mod tenancy;
mod terraform_replay;
mod update;
