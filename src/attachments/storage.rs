//! Where attachment bytes live: one small trait, its local-directory backend,
//! and [`Store`], the backend the configuration chose (local or S3-compatible,
//! see [`super::s3`]).
//!
//! Objects get random names (UUIDv7) under the tenant's folder, sharded by the
//! last two hex digits of the name (random bits, unlike the leading time bits):
//! `{tenant}/{ab}/{uuid}`. A new object is written to a temporary file under
//! `.tmp/` and renamed into place only when complete, so a reader never sees a
//! half-written file and a crash leaves nothing but a stray temporary file.
//!

use super::s3::{S3Store, S3Writer};
use crate::{config::StorageBackend, db::TenantId};
use std::{
    future::Future,
    io,
    path::{Path, PathBuf},
    pin::Pin,
    sync::Arc,
};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _, BufWriter};

/// The name of a stored object, as kept in `attachments.storage_key`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// A fresh random key in `tenant`'s folder.
    pub fn generate(tenant: TenantId) -> Self {
        let name = uuid::Uuid::now_v7().simple().to_string();
        let shard = &name[name.len() - 2..];
        Self(format!("{}/{shard}/{name}", tenant.0.simple()))
    }

    /// A key read back from the database; refused unless it has the shape
    /// [`generate`](Self::generate) makes, so it can never name a path outside
    /// the storage root.
    pub fn parse(raw: &str) -> Option<Self> {
        let parts: Vec<&str> = raw.split('/').collect();
        let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        (parts.len() == 3 && hex(parts[0], 32) && hex(parts[1], 2) && hex(parts[2], 32))
            .then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A readable stored object.
pub type ObjectReader = Pin<Box<dyn AsyncRead + Send>>;

/// An object found in storage, with when it was last written (for the orphan
/// sweep, which leaves recent objects alone: their row may be about to commit).
#[derive(Clone, Debug)]
pub struct Listed {
    pub key: ObjectKey,
    pub modified: time::OffsetDateTime,
}

/// Attachment storage. Writes stream: `create`, `write` chunk by chunk, then
/// `commit` (the object appears) or `abort` (nothing remains).
pub trait Storage: Send + Sync + 'static {
    /// An object being written.
    type Writer: Send;

    fn create(&self, tenant: TenantId) -> impl Future<Output = io::Result<Self::Writer>> + Send;
    fn write(
        &self,
        writer: &mut Self::Writer,
        chunk: &[u8],
    ) -> impl Future<Output = io::Result<()>> + Send;
    fn commit(&self, writer: Self::Writer) -> impl Future<Output = io::Result<ObjectKey>> + Send;
    fn abort(&self, writer: Self::Writer) -> impl Future<Output = ()> + Send;
    fn open(&self, key: &ObjectKey) -> impl Future<Output = io::Result<ObjectReader>> + Send;
    /// `len` bytes of an object from byte `first` on (a range request).
    fn open_range(
        &self,
        key: &ObjectKey,
        first: u64,
        len: u64,
    ) -> impl Future<Output = io::Result<ObjectReader>> + Send;
    /// Removes an object; removing one that is not there is not an error.
    fn delete(&self, key: &ObjectKey) -> impl Future<Output = io::Result<()>> + Send;
    /// Every committed object in `tenant`'s folder.
    fn list(&self, tenant: TenantId) -> impl Future<Output = io::Result<Vec<Listed>>> + Send;
}

/// The storage the application uses: the backend the configuration chose.
#[derive(Clone, Debug)]
pub enum Store {
    Local(LocalDir),
    S3(S3Store),
    /// The configured backend could not be set up (configuration validation
    /// refuses this at start); every operation fails with the reason.
    Unavailable(Arc<str>),
}

/// An object being written to a [`Store`].
pub enum StoreWriter {
    Local(LocalWriter),
    S3(S3Writer),
}

/// The configured storage (`attachments.backend`). Cheap for the local
/// backend; the S3 client is made once, with the application state.
pub fn from_config(config: &crate::config::Config) -> Store {
    match config.attachments.backend {
        StorageBackend::Local => Store::Local(LocalDir::new(config.attachment_dir())),
        StorageBackend::S3 => match config.attachments.s3.as_ref().map(S3Store::new) {
            Some(Ok(s3)) => Store::S3(s3),
            Some(Err(error)) => Store::Unavailable(error.to_string().into()),
            None => Store::Unavailable("attachments.s3 is not configured".into()),
        },
    }
}

impl Store {
    /// Removes unfinished writes (a crash mid-upload) last touched before
    /// `cutoff`; returns how many. S3 keeps no partial object: an unfinished
    /// multipart upload is the bucket's lifecycle rule's to expire.
    pub async fn remove_unfinished(&self, cutoff: time::OffsetDateTime) -> io::Result<u64> {
        match self {
            Store::Local(local) => local.remove_unfinished(cutoff).await,
            Store::S3(_) | Store::Unavailable(_) => Ok(0),
        }
    }
}

fn unavailable(reason: &str) -> io::Error {
    io::Error::other(format!("attachment storage is unavailable: {reason}"))
}

fn mismatched() -> io::Error {
    io::Error::other("an object writer of another storage backend")
}

impl Storage for Store {
    type Writer = StoreWriter;

    async fn create(&self, tenant: TenantId) -> io::Result<StoreWriter> {
        match self {
            Store::Local(local) => local.create(tenant).await.map(StoreWriter::Local),
            Store::S3(s3) => s3.create(tenant).await.map(StoreWriter::S3),
            Store::Unavailable(reason) => Err(unavailable(reason)),
        }
    }

    async fn write(&self, writer: &mut StoreWriter, chunk: &[u8]) -> io::Result<()> {
        match (self, writer) {
            (Store::Local(local), StoreWriter::Local(writer)) => local.write(writer, chunk).await,
            (Store::S3(s3), StoreWriter::S3(writer)) => s3.write(writer, chunk).await,
            _ => Err(mismatched()),
        }
    }

    async fn commit(&self, writer: StoreWriter) -> io::Result<ObjectKey> {
        match (self, writer) {
            (Store::Local(local), StoreWriter::Local(writer)) => local.commit(writer).await,
            (Store::S3(s3), StoreWriter::S3(writer)) => s3.commit(writer).await,
            _ => Err(mismatched()),
        }
    }

    async fn abort(&self, writer: StoreWriter) {
        match (self, writer) {
            (Store::Local(local), StoreWriter::Local(writer)) => local.abort(writer).await,
            (Store::S3(s3), StoreWriter::S3(writer)) => s3.abort(writer).await,
            // A local writer removes its temporary file when dropped.
            _ => {}
        }
    }

    async fn open(&self, key: &ObjectKey) -> io::Result<ObjectReader> {
        match self {
            Store::Local(local) => local.open(key).await,
            Store::S3(s3) => s3.open(key).await,
            Store::Unavailable(reason) => Err(unavailable(reason)),
        }
    }

    async fn open_range(&self, key: &ObjectKey, first: u64, len: u64) -> io::Result<ObjectReader> {
        match self {
            Store::Local(local) => local.open_range(key, first, len).await,
            Store::S3(s3) => s3.open_range(key, first, len).await,
            Store::Unavailable(reason) => Err(unavailable(reason)),
        }
    }

    async fn delete(&self, key: &ObjectKey) -> io::Result<()> {
        match self {
            Store::Local(local) => local.delete(key).await,
            Store::S3(s3) => s3.delete(key).await,
            Store::Unavailable(reason) => Err(unavailable(reason)),
        }
    }

    async fn list(&self, tenant: TenantId) -> io::Result<Vec<Listed>> {
        match self {
            Store::Local(local) => local.list(tenant).await,
            Store::S3(s3) => s3.list(tenant).await,
            Store::Unavailable(reason) => Err(unavailable(reason)),
        }
    }
}

/// Objects as files under a root directory.
#[derive(Clone, Debug)]
pub struct LocalDir {
    root: PathBuf,
}

/// A file being written under `.tmp/`. Dropped without `commit` or `abort`
/// (a cancelled request), it removes its temporary file.
pub struct LocalWriter {
    file: Option<BufWriter<tokio::fs::File>>,
    temp: PathBuf,
    key: ObjectKey,
}

impl Drop for LocalWriter {
    fn drop(&mut self) {
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

impl LocalDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, key: &ObjectKey) -> PathBuf {
        self.root.join(&key.0)
    }

    /// Removes temporary files under `.tmp/` last written before `cutoff`.
    pub async fn remove_unfinished(&self, cutoff: time::OffsetDateTime) -> io::Result<u64> {
        let mut removed = 0;
        let mut entries = match tokio::fs::read_dir(self.root.join(".tmp")).await {
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
            other => other?,
        };
        while let Some(entry) = entries.next_entry().await? {
            let is_part = entry.file_name().to_string_lossy().ends_with(".part");
            let modified: time::OffsetDateTime = entry.metadata().await?.modified()?.into();
            if is_part && modified < cutoff {
                match tokio::fs::remove_file(entry.path()).await {
                    Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
                    _ => removed += 1,
                }
            }
        }
        Ok(removed)
    }
}

const WRITE_BUFFER: usize = 64 * 1024;

impl Storage for LocalDir {
    type Writer = LocalWriter;

    async fn create(&self, tenant: TenantId) -> io::Result<LocalWriter> {
        let key = ObjectKey::generate(tenant);
        let temp_dir = self.root.join(".tmp");
        tokio::fs::create_dir_all(&temp_dir).await?;
        let name = key.0.rsplit('/').next().unwrap_or_default();
        let temp = temp_dir.join(format!("{name}.part"));
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .await?;
        Ok(LocalWriter {
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            temp,
            key,
        })
    }

    async fn write(&self, writer: &mut LocalWriter, chunk: &[u8]) -> io::Result<()> {
        match writer.file.as_mut() {
            Some(file) => file.write_all(chunk).await,
            None => Err(io::Error::other("the object is already finished")),
        }
    }

    async fn commit(&self, mut writer: LocalWriter) -> io::Result<ObjectKey> {
        let Some(mut file) = writer.file.take() else {
            return Err(io::Error::other("the object is already finished"));
        };
        let finished = async {
            file.flush().await?;
            file.get_ref().sync_all().await?;
            drop(file);
            let target = self.path(&writer.key);
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent).await?;
            }
            tokio::fs::rename(&writer.temp, &target).await
        }
        .await;
        if let Err(error) = finished {
            let _ = tokio::fs::remove_file(&writer.temp).await;
            return Err(error);
        }
        Ok(writer.key.clone())
    }

    async fn abort(&self, mut writer: LocalWriter) {
        drop(writer.file.take());
        let _ = tokio::fs::remove_file(&writer.temp).await;
    }

    async fn open(&self, key: &ObjectKey) -> io::Result<ObjectReader> {
        let file = tokio::fs::File::open(self.path(key)).await?;
        Ok(Box::pin(file))
    }

    async fn open_range(&self, key: &ObjectKey, first: u64, len: u64) -> io::Result<ObjectReader> {
        let mut file = tokio::fs::File::open(self.path(key)).await?;
        file.seek(io::SeekFrom::Start(first)).await?;
        Ok(Box::pin(file.take(len)))
    }

    async fn delete(&self, key: &ObjectKey) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(key)).await {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    async fn list(&self, tenant: TenantId) -> io::Result<Vec<Listed>> {
        let folder = tenant.0.simple().to_string();
        let mut found = Vec::new();
        let mut shards = match tokio::fs::read_dir(self.root.join(&folder)).await {
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(found),
            other => other?,
        };
        while let Some(shard) = shards.next_entry().await? {
            if !shard.file_type().await?.is_dir() {
                continue;
            }
            let shard_name = shard.file_name().to_string_lossy().into_owned();
            let mut files = tokio::fs::read_dir(shard.path()).await?;
            while let Some(file) = files.next_entry().await? {
                let name = file.file_name().to_string_lossy().into_owned();
                // Anything not shaped like our keys is not ours to judge.
                let Some(key) = ObjectKey::parse(&format!("{folder}/{shard_name}/{name}")) else {
                    continue;
                };
                let modified = file.metadata().await?.modified()?;
                found.push(Listed {
                    key,
                    modified: modified.into(),
                });
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sharded_and_only_well_formed_keys_parse() {
        let key = ObjectKey::generate(TenantId::generate());
        let parts: Vec<&str> = key.as_str().split('/').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1], &parts[2][30..]);
        assert_eq!(ObjectKey::parse(key.as_str()), Some(key));
        for bad in ["../x", "a/b/c", "", "/etc/passwd"] {
            assert_eq!(ObjectKey::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_configuration_chooses_the_backend() {
        use crate::config::Config;
        use figment::providers::Serialized;
        let local = Config::from_figment(
            Config::defaults().merge(Serialized::default("attachments.dir", "/srv/files")),
        )
        .unwrap();
        assert!(
            matches!(from_config(&local), Store::Local(dir) if dir.root() == Path::new("/srv/files"))
        );

        let s3 = Config::from_figment(
            Config::defaults()
                .merge(Serialized::default("attachments.backend", "s3"))
                .merge(Serialized::default(
                    "attachments.s3.bucket",
                    "tessera-files",
                ))
                .merge(Serialized::default(
                    "attachments.s3.endpoint",
                    "http://127.0.0.1:9000",
                ))
                .merge(Serialized::default("attachments.s3.path_style", true))
                .merge(Serialized::default("attachments.s3.access_key_id", "key"))
                .merge(Serialized::default(
                    "attachments.s3.secret_access_key",
                    "secret",
                )),
        )
        .unwrap();
        assert!(matches!(from_config(&s3), Store::S3(_)));

        let missing = Config::from_figment(
            Config::defaults().merge(Serialized::default("attachments.backend", "s3")),
        )
        .unwrap_err();
        assert!(missing.to_string().contains("attachments.s3"), "{missing}");
        let unknown = Config::from_figment(
            Config::defaults().merge(Serialized::default("attachments.backend", "ftp")),
        );
        assert!(unknown.is_err());
    }

    #[tokio::test]
    async fn a_committed_object_reads_back_and_an_aborted_one_leaves_nothing() {
        let root = std::env::temp_dir().join(format!("tessera-storage-{}", uuid::Uuid::now_v7()));
        let store = LocalDir::new(&root);
        let tenant = TenantId::generate();

        let mut writer = store.create(tenant).await.unwrap();
        store.write(&mut writer, b"hello ").await.unwrap();
        store.write(&mut writer, b"world").await.unwrap();
        let key = store.commit(writer).await.unwrap();
        let mut text = String::new();
        store
            .open(&key)
            .await
            .unwrap()
            .read_to_string(&mut text)
            .await
            .unwrap();
        assert_eq!(text, "hello world");
        let mut part = String::new();
        store
            .open_range(&key, 6, 3)
            .await
            .unwrap()
            .read_to_string(&mut part)
            .await
            .unwrap();
        assert_eq!(part, "wor");

        let mut writer = store.create(tenant).await.unwrap();
        store.write(&mut writer, b"gone").await.unwrap();
        store.abort(writer).await;
        let dropped = store.create(tenant).await.unwrap();
        drop(dropped);
        let temp = std::fs::read_dir(root.join(".tmp")).unwrap().count();
        assert_eq!(temp, 0, "no temporary file is left");

        store.delete(&key).await.unwrap();
        store.delete(&key).await.unwrap();
        assert!(store.open(&key).await.is_err());
        let _ = std::fs::remove_dir_all(&root);
    }
}
