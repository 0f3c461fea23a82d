//! End-to-end tests of the API: a real server over HTTP on a real PostgreSQL.

mod helpers;

mod atomicity;
mod create_round_trip;
mod create_validation;
mod smoke;
mod source_rules;
mod tenancy;

mod sdk_suite;
mod signing;
