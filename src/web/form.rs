//! Form bodies as a list of fields, for forms that repeat a name (the chained
//! category selects) or whose fields depend on the role; forms with files
//! ([`Submission`]); and the request body limits.

use axum::{
    Form,
    body::Body,
    extract::{
        FromRequest, Request, State,
        multipart::{Field, Multipart, MultipartError},
    },
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http_body_util::Limited;

use crate::{
    attachments::{
        self, MAX_FILES_PER_UPLOAD, StoredFile,
        policy::Policy,
        service::{Receiving, Refusal, Upload, UploadError},
        storage::Store,
    },
    db::TenantId,
    error::AppError,
    state::AppState,
    tenants::Tenant,
};

#[derive(Debug, Default, Clone)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .collect()
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(key, _)| key == name)
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
        Ok(Fields(fields))
    }
}

/// Whether a request carries a `multipart/form-data` body.
pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.get(..19)
                .is_some_and(|t| t.eq_ignore_ascii_case("multipart/form-data"))
        })
}

/// Bounds every request body: `multipart/form-data` at the upload bound (ten
/// files at the per-file limit, plus the fields), everything else at
/// `server.body_limit_bytes`. Only [`Submission`], the body extractor of the
/// upload routes, reads multipart bodies: on every other route such a body is
/// refused (415) before it is read, so the larger bound serves those routes only.
/// A declared length over the bound answers 413 at once; a body that turns out
/// longer fails its reader with 413 (axum's extractors recognise the error).
pub async fn limit_body(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = if is_multipart(request.headers()) {
        attachments::upload_body_limit(&state.config)
    } else if crate::email::inbound::is_endpoint(request.uri().path()) {
        // Inbound mail bounds its own body, so that a message too large is
        // recorded as rejected rather than refused unseen.
        usize::MAX
    } else {
        state.config.server.body_limit_bytes
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    next.run(request.map(|body| Body::new(Limited::new(body, limit))))
        .await
}

/// A submitted form with its files: URL-encoded (no files) or multipart, whose
/// files stream into storage as they arrive. `refusal` says why the files were
/// refused (too many, too large, a program); then none are kept and the handler
/// shows the form again with that message, saving nothing.
pub struct Submission {
    pub fields: Fields,
    pub upload: Upload,
    pub refusal: Option<Refusal>,
}

impl FromRequest<AppState> for Submission {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let store = state.store.clone();
        if !is_multipart(request.headers()) {
            let fields = Fields::from_request(request, state).await?;
            return Ok(Self {
                fields,
                upload: Upload::new(store),
                refusal: None,
            });
        }
        let tenant = request
            .extensions()
            .get::<Tenant>()
            .map(|tenant| tenant.id)
            .ok_or(AppError::NotFound)?;
        let policy = {
            let mut tx = state.db.tenant_tx(tenant).await?;
            let policy = Policy::load(&mut tx, tenant, &state.config).await?;
            tx.commit().await?;
            policy
        };
        let multipart = Multipart::from_request(request, state)
            .await
            .map_err(|rejection| AppError::BadRequest(rejection.body_text()))?;
        read_multipart(
            multipart,
            store,
            tenant,
            &policy,
            state.config.server.body_limit_bytes,
        )
        .await
    }
}

/// Reads the parts in order: text fields into [`Fields`] (together at most
/// `server.body_limit_bytes`), files of the `attachments` field into storage
/// under the tenant's `policy`. Stops at the first refusal.
async fn read_multipart(
    mut multipart: Multipart,
    store: Store,
    tenant: TenantId,
    policy: &Policy,
    mut text_budget: usize,
) -> Result<Submission, AppError> {
    let mut fields = Vec::new();
    let mut upload = Upload::new(store.clone());
    let mut files = 0;
    let refusal = loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break None,
            Err(error) => break Some(multipart_refusal(&error)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let Some(filename) = field.file_name().map(str::to_owned) else {
            match read_text(&mut field, &mut text_budget).await {
                Ok(value) => fields.push((name, value)),
                Err(refusal) => break Some(refusal),
            }
            continue;
        };
        // An empty file input still sends a part, with no name and no bytes.
        if name != attachments::FIELD || filename.is_empty() {
            continue;
        }
        files += 1;
        if files > MAX_FILES_PER_UPLOAD {
            break Some(Refusal::invalid(format!(
                "Attach at most {MAX_FILES_PER_UPLOAD} files at a time."
            )));
        }
        match receive(&mut field, &store, tenant, &filename, policy).await {
            Ok(file) => upload.push(file),
            Err(UploadError::Refused(refusal)) => break Some(refusal),
            // A full disk is the operator's to fix; the person gets their
            // form back with a 507 and what they wrote, not an error page.
            Err(UploadError::Storage(error))
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
                ) =>
            {
                tracing::error!(%error, "attachment storage is full");
                break Some(Refusal::no_space());
            }
            Err(UploadError::Storage(error)) => {
                upload.discard().await;
                return Err(AppError::Internal(
                    anyhow::Error::new(error).context("storing an attachment"),
                ));
            }
        }
    };
    if refusal.is_some() {
        upload.discard().await;
        upload = Upload::new(store);
    }
    Ok(Submission {
        fields: Fields(fields),
        upload,
        refusal,
    })
}

async fn read_text(field: &mut Field<'_>, budget: &mut usize) -> Result<String, Refusal> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|error| multipart_refusal(&error))?
    {
        if chunk.len() > *budget {
            return Err(Refusal::too_large(
                "The form's text is longer than allowed.".to_owned(),
            ));
        }
        *budget -= chunk.len();
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes)
        .map_err(|_| Refusal::invalid("The form's text is not valid UTF-8.".to_owned()))
}

/// Streams one file part into storage, chunk by chunk.
async fn receive(
    field: &mut Field<'_>,
    store: &Store,
    tenant: TenantId,
    filename: &str,
    policy: &Policy,
) -> Result<StoredFile, UploadError> {
    let mut receiving = Receiving::start(store, tenant, filename, policy).await?;
    loop {
        let outcome = match field.chunk().await {
            Ok(Some(chunk)) => receiving.push(&chunk).await,
            Ok(None) => break,
            Err(error) => Err(UploadError::Refused(multipart_refusal(&error))),
        };
        if let Err(error) = outcome {
            receiving.abort().await;
            return Err(error);
        }
    }
    receiving.finish().await
}

fn multipart_refusal(error: &MultipartError) -> Refusal {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Refusal::too_large("The upload is larger than allowed in one request.".to_owned())
    } else {
        Refusal::invalid(format!(
            "The upload could not be read: {}",
            error.body_text()
        ))
    }
}
