//! End-to-end tests of the API: a real server over HTTP on a real PostgreSQL.

mod helpers;
mod smoke;

mod sdk_suite;
mod signing;
