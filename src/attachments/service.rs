//! Receiving files (streamed to storage while hashed, measured and sniffed) and
//! serving them to those who may see them.

use super::{
    AttachmentId, StoredFile,
    policy::Policy,
    range::Part,
    repo::{self, Attachment},
    storage::{ObjectKey, ObjectReader, Storage, Store},
    validate::{self, SNIFF_BYTES},
};
use crate::{
    auth::model::User,
    db::{Db, TenantId},
    error::AppError,
    replies::{self, service::facts},
    tickets::{self, access},
};
use axum::http::StatusCode;
use sha2::{Digest as _, Sha256};

/// Why an upload was refused, worded for the field; nothing of it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 413 for sizes, 507 for a full storage, 422 for everything else.
    pub status: StatusCode,
    pub message: String,
}

impl Refusal {
    /// The storage is full (507): nothing was kept, and trying later may work.
    pub fn no_space() -> Self {
        Self {
            status: StatusCode::INSUFFICIENT_STORAGE,
            message: "There is no room to store files right now. Nothing was saved; \
                      please try again later or leave the files out."
                .to_owned(),
        }
    }

    pub fn too_large(message: String) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            message,
        }
    }

    pub fn invalid(message: String) -> Self {
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("{}", .0.message)]
    Refused(Refusal),
    #[error(transparent)]
    Storage(#[from] std::io::Error),
}

/// One file on its way into storage. Feed it chunks with [`push`](Self::push),
/// then [`finish`](Self::finish) or [`abort`](Self::abort).
pub struct Receiving {
    store: Store,
    writer: <Store as Storage>::Writer,
    filename: String,
    policy: Policy,
    size: u64,
    hasher: Sha256,
    /// The first bytes, until sniffed.
    head: Vec<u8>,
    content_type: Option<&'static str>,
}

impl Receiving {
    /// Starts receiving a file named `raw_name` by the client; refuses blocked
    /// extensions, and names the tenant's allow-list does not hold, before
    /// anything is written.
    pub async fn start(
        store: &Store,
        tenant: TenantId,
        raw_name: &str,
        policy: &Policy,
    ) -> Result<Self, UploadError> {
        let filename = validate::normalise_filename(raw_name);
        if let Some(message) =
            validate::blocked_by_name(&filename).or_else(|| policy.refuse_name(&filename))
        {
            return Err(UploadError::Refused(Refusal::invalid(message)));
        }
        let writer = store.create(tenant).await?;
        Ok(Self {
            store: store.clone(),
            writer,
            filename,
            policy: policy.clone(),
            size: 0,
            hasher: Sha256::new(),
            head: Vec::new(),
            content_type: None,
        })
    }

    /// Takes the next chunk. On a refusal the caller aborts.
    pub async fn push(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        self.size += chunk.len() as u64;
        if self.size > self.policy.max_file_bytes {
            return Err(UploadError::Refused(Refusal::too_large(format!(
                "“{}” is larger than the {} limit for a file.",
                self.filename,
                validate::format_size(self.policy.max_file_bytes)
            ))));
        }
        if self.content_type.is_none() {
            let wanted = SNIFF_BYTES - self.head.len();
            self.head
                .extend_from_slice(&chunk[..wanted.min(chunk.len())]);
            if self.head.len() >= SNIFF_BYTES {
                self.sniff()?;
            }
        }
        self.hasher.update(chunk);
        self.store.write(&mut self.writer, chunk).await?;
        Ok(())
    }

    fn sniff(&mut self) -> Result<(), UploadError> {
        match validate::sniff(&self.head) {
            Ok(content_type) => {
                if let Some(message) = self.policy.refuse_content(&self.filename, content_type) {
                    return Err(UploadError::Refused(Refusal::invalid(message)));
                }
                self.content_type = Some(content_type);
                self.head = Vec::new();
                Ok(())
            }
            Err(what) => Err(UploadError::Refused(Refusal::invalid(format!(
                "“{}” is {what}, which cannot be attached.",
                self.filename
            )))),
        }
    }

    /// The file is complete: sniff what is left to sniff, then store it. On an
    /// error nothing of it remains.
    pub async fn finish(mut self) -> Result<StoredFile, UploadError> {
        if self.content_type.is_none()
            && let Err(error) = self.sniff()
        {
            self.abort().await;
            return Err(error);
        }
        let Self {
            store,
            writer,
            filename,
            size,
            hasher,
            content_type,
            ..
        } = self;
        // A failed commit removes its temporary file itself.
        let key = store.commit(writer).await?;
        Ok(StoredFile {
            key,
            filename,
            content_type: content_type
                .unwrap_or("application/octet-stream")
                .to_owned(),
            size,
            sha256: hasher.finalize().into(),
        })
    }

    /// Drops what was written.
    pub async fn abort(self) {
        self.store.abort(self.writer).await;
    }
}

/// Files stored for one request and not yet recorded. Unless [`keep`](Self::keep)
/// is called (after the row committed), they are removed: by
/// [`discard`](Self::discard), or when dropped (a request that ended early).
pub struct Upload {
    store: Store,
    files: Vec<StoredFile>,
}

impl Upload {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            files: Vec::new(),
        }
    }

    pub fn push(&mut self, file: StoredFile) {
        self.files.push(file);
    }

    pub fn files(&self) -> &[StoredFile] {
        &self.files
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The files are recorded: keep them.
    pub fn keep(mut self) {
        self.files.clear();
    }

    /// Removes the stored files now.
    pub async fn discard(mut self) {
        for file in std::mem::take(&mut self.files) {
            remove(&self.store, &file.key).await;
        }
    }
}

async fn remove(store: &Store, key: &ObjectKey) {
    if let Err(error) = store.delete(key).await {
        // The orphan sweep would find it later.
        tracing::warn!(%error, key = key.as_str(), "removing an unrecorded attachment");
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        let files = std::mem::take(&mut self.files);
        if files.is_empty() {
            return;
        }
        let store = self.store.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for file in files {
                    remove(&store, &file.key).await;
                }
            });
        }
    }
}

/// An attachment the user may download, with the bytes asked for (none when
/// the range asked for is outside the file).
pub struct Download {
    pub attachment: Attachment,
    pub part: Part,
    pub reader: Option<ObjectReader>,
}

/// Opens attachment `id` of ticket `number` if `user` may see the ticket and the
/// reply or note it belongs to; 404 otherwise, whether it exists or not.
/// `range` is the request's `Range` header (see [`Part::of`]).
pub async fn open(
    db: &Db,
    store: &Store,
    user: &User,
    number: i64,
    id: AttachmentId,
    range: Option<&str>,
) -> Result<Download, AppError> {
    let tenant = user.tenant_id;
    let mut tx = db.tenant_tx(tenant).await?;
    let ticket = tickets::load_visible(&mut tx, user, number).await?;
    let attachment = repo::find(&mut tx, tenant, ticket.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if attachment.internal && !user.role.is_staff() {
        return Err(AppError::NotFound);
    }
    if let Some(reply) = attachment.reply_id {
        let reply = replies::repo::find(&mut tx, tenant, ticket.id, reply)
            .await?
            .ok_or(AppError::NotFound)?;
        if !access::can_see_reply(user, facts(user, &reply)) {
            return Err(AppError::NotFound);
        }
    }
    tx.commit().await?;
    let key = ObjectKey::parse(&attachment.storage_key).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("malformed storage key for attachment {id}"))
    })?;
    let size = u64::try_from(attachment.size_bytes).unwrap_or(0);
    let part = Part::of(range, size);
    let reader = match part {
        Part::Whole => Some(store.open(&key).await),
        Part::Range { first, last } => Some(store.open_range(&key, first, last - first + 1).await),
        Part::Unsatisfiable => None,
    }
    .transpose()
    .map_err(|error| {
        AppError::Internal(anyhow::Error::new(error).context(format!("opening attachment {id}")))
    })?;
    Ok(Download {
        attachment,
        part,
        reader,
    })
}
