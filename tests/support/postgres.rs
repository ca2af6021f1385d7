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

    /// A store on the schema with at most `connections` open to the server.
    pub async fn store_with_pool(&self, connections: u32) -> Arc<dyn Store> {
        let mut config = pg_config(&self.schema);
        config.pool_size = connections;
        Arc::new(PgStore::connect(&config).await.unwrap())
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        drop_schema(postgres_url(), self.schema.clone());
    }
}

/// A PostgreSQL database of its own for one test that runs the bot's binary (which
/// uses the `public` schema of the database its URL names), on the test server,
/// dropped after it (with any connection still open to it).
pub struct OwnDatabase {
    server: String,
    pub name: String,
}

impl OwnDatabase {
    /// `None` (said once per test binary) when no server is in reach, unless
    /// `KR_REQUIRE_POSTGRES=1`.
    pub async fn new(test: &str) -> Option<OwnDatabase> {
        let pool = postgres_server(test).await?;
        let name = fresh_schema(test);
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .unwrap();
        Some(OwnDatabase {
            server: postgres_url(),
            name,
        })
    }

    /// The database's URL, on the server's own address.
    pub fn url(&self) -> String {
        let mut url = url::Url::parse(&self.server).unwrap();
        url.set_path(&self.name);
        url.to_string()
    }

    /// The database's URL through another address (a proxy's) on this machine.
    pub fn url_through(&self, addr: std::net::SocketAddr) -> String {
        let mut url = url::Url::parse(&self.url()).unwrap();
        url.set_ip_host(addr.ip()).unwrap();
        url.set_port(Some(addr.port())).unwrap();
        url.to_string()
    }

    /// The server's address (host and port of the URL).
    pub fn server_addr(&self) -> std::net::SocketAddr {
        let url = url::Url::parse(&self.server).unwrap();
        url.socket_addrs(|| Some(5432)).unwrap()[0]
    }

    /// A connection to the test server's own database (not this one), for what a
    /// test does to the server: end the backends of this database, say.
    pub async fn admin(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.server).await.unwrap()
    }

    /// The bot's store on this database, as another process opens it.
    pub async fn store(&self) -> Arc<dyn Store> {
        Arc::new(
            PgStore::connect(&karabakh_store::PgConfig::new(self.url()))
                .await
                .unwrap(),
        )
    }
}

impl Drop for OwnDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let pool = sqlx::PgPool::connect(&server).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&pool)
                    .await
                    .map(|_| ())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!(
                "could not drop the test database {}: {dropped:?}",
                self.name
            );
        }
    }
}
