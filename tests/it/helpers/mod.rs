mod database;
mod test_app;

pub use database::TestDatabase;
pub use test_app::{PASSWORD, TestApp, TestResponse};
