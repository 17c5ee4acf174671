//! `policyc cloud-double`: a local Graph-compatible server to try the agent without a tenant.

use super::EXIT_ERROR;
use policyc_agent::double::{CloudAccount, CloudDouble, Credentials, Faults};
use std::time::Duration;

/// Run a Microsoft Graph-compatible cloud double on 127.0.0.1 (tokens, user passwords, the
/// Entra cloud policy, injected faults), until interrupted.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  policyc cloud-double --listen 127.0.0.1:8765 --client-id demo --client-secret demo --user jdoe@contoso.com\n  # agent.yaml: base_url http://127.0.0.1:8765, token_url http://127.0.0.1:8765/token"
)]
pub(crate) struct Args {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: String,
    /// OAuth2 client id it accepts.
    #[arg(long, default_value = "policyc")]
    client_id: String,
    /// OAuth2 client secret it accepts.
    #[arg(long, default_value = "policyc")]
    client_secret: String,
    /// Token lifetime, in seconds.
    #[arg(long, default_value_t = 3600)]
    token_ttl: u64,
    /// Share of PATCH requests answered 429.
    #[arg(long, default_value_t = 0.0)]
    throttle: f64,
    /// Retry-After sent with 429, in seconds.
    #[arg(long, default_value_t = 1.0)]
    retry_after: f64,
    /// Share of PATCH requests answered 500.
    #[arg(long, default_value_t = 0.0)]
    server_error: f64,
    /// Share of PATCH requests whose connection is dropped.
    #[arg(long, default_value_t = 0.0)]
    drop: f64,
    /// Delay before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Share of PATCH requests answered 302 (to try the agent's refusal to follow redirects).
    #[arg(long, default_value_t = 0.0)]
    redirect: f64,
    /// A cloud-managed user (repeatable); other users get 404, as in Graph.
    #[arg(long = "user", value_name = "UPN")]
    users: Vec<String>,
    /// A user Entra Connect syncs (repeatable): Graph refuses to set its password.
    #[arg(long = "synced-user", value_name = "UPN")]
    synced_users: Vec<String>,
    /// Create unknown users on their first password change instead of answering 404.
    #[arg(long)]
    any_user: bool,
}

pub(crate) fn run(a: Args) -> u8 {
    if !a.listen.starts_with("127.")
        && !a.listen.starts_with("[::1]")
        && !a.listen.starts_with("localhost")
    {
        eprintln!("error: the cloud double listens on loopback only (127.0.0.1)");
        return EXIT_ERROR;
    }
    let creds = Credentials {
        client_id: a.client_id,
        client_secret: a.client_secret,
        token_ttl: Duration::from_secs(a.token_ttl),
    };
    let double = match CloudDouble::start(&a.listen, creds) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot listen on {}: {e}", a.listen);
            return EXIT_ERROR;
        }
    };
    double.set_faults(Faults {
        throttle: a.throttle,
        retry_after_secs: a.retry_after,
        server_error: a.server_error,
        drop: a.drop,
        delay: Duration::from_millis(a.delay_ms),
        redirect: a.redirect,
        garbage: 0.0,
    });
    double.add_users(a.users.iter().map(String::as_str));
    for upn in &a.synced_users {
        double.add_user(upn, CloudAccount { synced: true, ..CloudAccount::default() });
    }
    double.accept_any_user(a.any_user);
    outln!("{}", double.url());
    eprintln!("cloud double listening on {} (Graph at /v1.0, tokens at /token)", double.url());
    loop {
        std::thread::sleep(Duration::from_secs(60));
        let s = double.stats();
        eprintln!(
            "cloud double: {} set, {} refused, {} faults, {} tokens",
            s.set, s.refused, s.faults, s.tokens
        );
    }
}
