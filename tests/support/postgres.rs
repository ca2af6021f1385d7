//! A PostgreSQL schema of its own for one test of the bot, dropped after it; `None`
//! (said once per test binary) when no server is in reach, unless
//! `KR_REQUIRE_POSTGRES=1`. See [`karabakh_store::testing`].

use std::sync::Arc;

use karabakh_store::testing::{
    drop_schema, fresh_schema, pg_config, postgres_server, postgres_url,
};
use karabakh_store::{PgStore, Store};

pub struct TestDb {
    schema: String,
}

impl TestDb {
    pub async fn new(test: &str) -> Option<TestDb> {
        postgres_server(test).await?;
        Some(TestDb {
            schema: fresh_schema(test),
        })
    }

    /// A store on the schema, as one process of the bot opens it.
    pub async fn store(&self) -> Arc<dyn Store> {
        Arc::new(PgStore::connect(&pg_config(&self.schema)).await.unwrap())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        drop_schema(postgres_url(), self.schema.clone());
    }
}
