//! The start page of a tenant, laid out for the signed-in user's role.

use crate::{
    auth::model::Role,
    state::AppState,
    web::{chrome::Chrome, extract::CurrentUser},
};
use askama::Template;
use askama_web::WebTemplate;
use axum::{Router, routing::get};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/{tenant}", get(home))
        .route("/{tenant}/", get(home))
}

struct Card {
    title: &'static str,
    body: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "home/index.html")]
struct HomePage {
    chrome: Chrome,
    name: String,
    email: String,
    cards: Vec<Card>,
}

async fn home(CurrentUser(user): CurrentUser, chrome: Chrome) -> HomePage {
    HomePage {
        chrome,
        cards: cards_for(user.role),
        name: user.name,
        email: user.email,
    }
}

fn cards_for(role: Role) -> Vec<Card> {
    let card = |title, body| Card { title, body };
    match role {
        Role::Customer => vec![
            card(
                "Your requests",
                "Ask the support team for help, follow each request and reply to it.",
            ),
            card(
                "Email updates",
                "You hear from us by email whenever the team replies or your request changes.",
            ),
        ],
        Role::Agent => vec![
            card(
                "Your queue",
                "Every ticket of the team, last updated first, with filters, sorts and search.",
            ),
            card(
                "Replies and notes",
                "Answer customers, or leave internal notes only staff can see.",
            ),
        ],
        Role::Admin => vec![
            card(
                "Your queue",
                "Every ticket of the team, last updated first, with filters, sorts and search.",
            ),
            card(
                "Settings",
                "Statuses, priorities, types, categories, tags and the reopen window.",
            ),
            card(
                "Users and groups",
                "Invite customers, agents and admins; group agents by the categories they cover.",
            ),
        ],
    }
}
