mod database;
mod logs;
mod test_app;

pub use database::TestDatabase;
pub use logs::CapturedLogs;
pub use test_app::{PASSWORD, TestApp, TestResponse};
