//! Sign-in and sign-out pages.

use super::{service, session, views::LoginPage};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
    tenants::Tenant,
    web::{
        chrome::Chrome,
        extract::{ClientAddr, CurrentUser},
    },
};
use axum::{
    Form,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

#[derive(Deserialize)]
pub struct ReturnTo {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

/// The public submission form, when the tenant takes guest requests.
async fn guest_submit_href(state: &AppState, tenant: &Tenant) -> AppResult<Option<String>> {
    let settings = crate::guests::service::settings(&state.db, tenant).await?;
    Ok(settings
        .guest_submission_enabled
        .then(|| format!("{}/submit", tenant.base_path())))
}

pub async fn login_page(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    user: Option<CurrentUser>,
    Query(return_to): Query<ReturnTo>,
) -> AppResult<Response> {
    let next = safe_next(&tenant, return_to.next.as_deref());
    if user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(LoginPage {
        chrome,
        action: login_action(&tenant, &next),
        email: String::new(),
        form_error: None,
        forgot_href: forgot_href(&tenant),
        submit_href: guest_submit_href(&state, &tenant).await?,
    }
    .into_response())
}

pub async fn login(
    State(state): State<AppState>,
    tenant: Tenant,
    chrome: Chrome,
    ClientAddr(client): ClientAddr,
    session: Session,
    Query(return_to): Query<ReturnTo>,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(&tenant, return_to.next.as_deref());
    let outcome = service::sign_in(
        &state.db,
        &state.clock,
        &state.config.auth,
        tenant.id,
        &form.email,
        form.password,
        client,
    )
    .await;
    let (status, message, retry_after) = match outcome {
        Ok(user) => {
            session::sign_in(&session, tenant.id, user.id).await?;
            return Ok(Redirect::to(&next).into_response());
        }
        Err(service::SignInError::InvalidCredentials) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Email or password is incorrect.".to_owned(),
            None,
        ),
        Err(service::SignInError::Throttled { retry_after_secs }) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed sign-in attempts. Try again in {retry_after_secs} seconds."),
            Some(retry_after_secs),
        ),
        Err(service::SignInError::Database(error)) => return Err(error.into()),
        Err(service::SignInError::Internal(error)) => return Err(error.into()),
    };
    let page = LoginPage {
        chrome,
        action: login_action(&tenant, &next),
        email: form.email,
        form_error: Some(message),
        forgot_href: forgot_href(&tenant),
        submit_href: guest_submit_href(&state, &tenant).await?,
    };
    let mut response = (status, page).into_response();
    if let Some(secs) = retry_after
        && let Ok(value) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    Ok(response)
}

/// Signs out of this tenant only; other tenants' logins in the session stay.
pub async fn logout(tenant: Tenant, session: Session) -> Result<Redirect, AppError> {
    session::sign_out(&session, tenant.id).await?;
    Ok(Redirect::to(&format!(
        "{}/login?notice=signed_out",
        tenant.base_path()
    )))
}

/// The page to go to after signing in: `next` when it is a path inside this
/// tenant (never another site or tenant), else the tenant's home.
fn safe_next(tenant: &Tenant, next: Option<&str>) -> String {
    let home = format!("{}/", tenant.base_path());
    match next {
        Some(path)
            if path.starts_with(&home)
                && !path.contains("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => home,
    }
}

fn forgot_href(tenant: &Tenant) -> String {
    format!("{}/password/forgot", tenant.base_path())
}

fn login_action(tenant: &Tenant, next: &str) -> String {
    let base = format!("{}/login", tenant.base_path());
    if next == format!("{}/", tenant.base_path()) {
        return base;
    }
    match serde_urlencoded::to_string([("next", next)]) {
        Ok(query) => format!("{base}?{query}"),
        Err(_) => base,
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;
    use crate::{db::TenantId, tenants::Tenant};

    #[test]
    fn next_stays_inside_the_tenant() {
        let tenant = Tenant {
            id: TenantId(uuid::Uuid::nil()),
            slug: "acme".into(),
            name: "Acme".into(),
            is_demo: false,
            ticket_prefix: "TKT-".into(),
            catalog_version: 0,
        };
        let cases = [
            (None, "/acme/"),
            (Some("/acme/tickets/12"), "/acme/tickets/12"),
            (Some("/other/tickets"), "/acme/"),
            (Some("https://evil.test/acme/"), "/acme/"),
            (Some("/acme//evil.test"), "/acme/"),
            (Some("/acme/\\evil"), "/acme/"),
            (Some("/acmex/"), "/acme/"),
        ];
        for (next, expected) in cases {
            assert_eq!(safe_next(&tenant, next), expected, "{next:?}");
        }
    }
}
