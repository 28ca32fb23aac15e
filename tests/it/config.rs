//! Configuration is validated at start, and errors name the key.

use figment::Figment;
use tessera::config::Config;

fn load(values: &[(&str, &str)]) -> Result<Config, String> {
    let mut figment: Figment = Config::defaults();
    for (key, value) in values {
        figment = figment.merge((*key, *value));
    }
    Config::from_figment(figment).map_err(|error| error.to_string())
}

#[test]
fn the_built_in_defaults_are_valid() {
    let config = load(&[]).expect("defaults load");
    assert_eq!(config.server.bind.to_string(), "127.0.0.1:8080");
    assert!(config.database.url.is_none(), "local mode by default");
    assert!(!config.secure_cookies());
}

#[test]
fn a_bad_value_names_its_key_and_the_reason() {
    let cases = [
        ("server.bind", "not-an-address", "server.bind"),
        ("server.public_url", "ftp://x", "server.public_url"),
        ("database.url", "mysql://x", "database.url"),
        ("session.secret", "too-short", "session.secret"),
        ("log.format", "xml", "log.format"),
        ("smtp.security", "ssl3", "smtp.security"),
        ("email.reply_to", "support@example.test", "email.reply_to"),
        ("email.reply_to", "support@{token}", "email.reply_to"),
        ("email.reply_to", "{token}{token}@x.test", "email.reply_to"),
    ];
    for (key, value, named) in cases {
        let error = load(&[(key, value)]).expect_err(key);
        assert!(error.contains(named), "{key}: {error}");
    }
}

#[test]
fn https_public_urls_make_cookies_secure() {
    let config = load(&[("server.public_url", "https://help.example.test")]).unwrap();
    assert!(config.secure_cookies());
}

#[test]
fn a_reply_to_pattern_with_one_token_before_the_domain_is_accepted() {
    let config = load(&[("email.reply_to", "support+{token}@help.example.test")]).unwrap();
    assert_eq!(
        config.email.reply_to.as_deref(),
        Some("support+{token}@help.example.test")
    );
}
