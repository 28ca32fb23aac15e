//! Extractors that say, in a handler's signature, who may call it.
//!
//! `CurrentUser` (any signed-in user of the tenant), `Staff` (agent or admin) and
//! `Admin` read the user loaded by `tenant::enter_tenant`. Not signed in →
//! redirect to the tenant's login page; signed in without the role → 404, so a
//! customer cannot even learn that a staff page exists.

use super::tenant::SignedIn;
use crate::{auth::model::User, error::AppError, tenants::Tenant};
use axum::{
    extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts},
    http::{Method, request::Parts},
};
use std::{
    convert::Infallible,
    net::{IpAddr, Ipv4Addr, SocketAddr},
};

impl<S: Send + Sync> FromRequestParts<S> for Tenant {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Tenant>()
            .cloned()
            .ok_or(AppError::NotFound)
    }
}

/// Any signed-in user of the request's tenant.
#[derive(Clone, Debug)]
pub struct CurrentUser(pub User);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        if let Some(SignedIn(user)) = parts.extensions.get::<SignedIn>() {
            return Ok(CurrentUser(user.clone()));
        }
        let tenant = parts.extensions.get::<Tenant>().ok_or(AppError::NotFound)?;
        let mut login_href = format!("{}/login", tenant.base_path());
        // Come back here after signing in, for pages one can come back to.
        if parts.method == Method::GET
            && let Ok(query) = serde_urlencoded::to_string([("next", parts.uri.path())])
        {
            login_href = format!("{login_href}?{query}");
        }
        Err(AppError::SignInRequired { login_href })
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for CurrentUser {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Infallible> {
        Ok(parts
            .extensions
            .get::<SignedIn>()
            .map(|SignedIn(user)| CurrentUser(user.clone())))
    }
}

/// A signed-in agent or admin.
#[derive(Clone, Debug)]
pub struct Staff(pub User);

impl<S: Send + Sync> FromRequestParts<S> for Staff {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let CurrentUser(user) =
            <CurrentUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        if user.role.is_staff() {
            Ok(Staff(user))
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// A signed-in admin.
#[derive(Clone, Debug)]
pub struct Admin(pub User);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let CurrentUser(user) =
            <CurrentUser as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        if user.role == crate::auth::model::Role::Admin {
            Ok(Admin(user))
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// The client's address, from the TCP connection. Behind a proxy this is the
/// proxy's address; rate limits then apply to the proxy as a whole.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}
