//! Slash command registration: the command table ([`render::commands`]) sent as one
//! bulk overwrite, globally or for one server. `karabakh-reactions register` and the
//! gateway's registration at start (for `discord.dev_guild`) both come here.

use serenity::all::{Command, GuildId};
use serenity::http::Http;

use crate::discord::{render, rest};
use crate::operator::Config;
use crate::operator::Secret;

/// The JSON body of the bulk overwrite, exactly as it is sent (serenity serializes
/// the same definitions with the same serializer).
pub fn body() -> String {
    serde_json::to_string(&render::commands()).expect("command definitions serialize")
}

/// Where commands are registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every server and DM; Discord may take a while to show changes.
    Global,
    /// One server, at once.
    Guild(u64),
}

impl Scope {
    pub fn new(guild: Option<u64>) -> Self {
        guild.map_or(Scope::Global, Scope::Guild)
    }

    fn path(self) -> String {
        match self {
            Scope::Global => "PUT /api/v10/applications/{id}/commands".to_owned(),
            Scope::Guild(g) => format!("PUT /api/v10/applications/{{id}}/guilds/{g}/commands"),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Global => f.write_str("globally"),
            Scope::Guild(g) => write!(f, "for server {g}"),
        }
    }
}

/// Bulk-overwrites the commands in `scope` with the command table, finding the
/// application's id first if the client does not know it yet. Returns the names
/// Discord stored.
pub async fn register(http: &Http, api_base: &str, scope: Scope) -> Result<Vec<String>, String> {
    if http.application_id().is_none() {
        let app = http
            .get_current_application_info()
            .await
            .map_err(|e| rest::describe(&e, api_base, "GET /api/v10/oauth2/applications/@me"))?;
        http.set_application_id(app.id);
    }
    let definitions = render::commands();
    let stored = match scope {
        Scope::Global => Command::set_global_commands(http, definitions).await,
        Scope::Guild(g) => GuildId::new(g).set_commands(http, definitions).await,
    }
    .map_err(|e| rest::describe(&e, api_base, &scope.path()))?;
    Ok(stored.into_iter().map(|c| c.name).collect())
}

/// `karabakh-reactions register`: checks the token, then registers. Returns the line
/// to print.
pub async fn run(config: &Config, token: &Secret, scope: Scope) -> Result<String, String> {
    let base = &config.discord.api_base;
    if scope == Scope::Guild(0) {
        return Err("--guild takes a server (guild) id, a number above 0".to_owned());
    }
    rest::check_token_shape(token.expose())?;
    let http = rest::client(base, token)?;
    let me = rest::check_login(&http, base).await?;
    let names = register(&http, base, scope).await?;
    tracing::info!(bot = %me.name, %scope, commands = names.len(), "commands registered");
    let later = match scope {
        Scope::Global => " (Discord can take up to an hour to show global changes everywhere)",
        Scope::Guild(_) => "",
    };
    Ok(format!(
        "registered {} commands {scope} for {}: {}{later}",
        names.len(),
        me.name,
        names.join(", ")
    ))
}
