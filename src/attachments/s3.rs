//! The S3-compatible backend (AWS S3, MinIO, Garage, Ceph …) through the
//! object_store crate. Objects keep the local backend's key layout.
//!
//! Writes are multipart uploads in [`PART_BYTES`] parts with at most
//! [`PARTS_IN_FLIGHT`] parts uploading while the next one fills, so an upload
//! holds at most about 15 MiB in memory however large the file. Nothing is visible until the
//! upload completes; an aborted (or dropped) upload leaves no object (S3 drops
//! incomplete uploads on abort; a bucket lifecycle rule for incomplete uploads
//! covers a crash).

use super::storage::{Listed, ObjectKey, ObjectReader};
use crate::{config::S3Config, db::TenantId};
use futures_util::{StreamExt as _, TryStreamExt as _};
use object_store::{
    GetOptions, ObjectStore, ObjectStoreExt as _, WriteMultipart,
    aws::{AmazonS3, AmazonS3Builder},
    path::Path,
};
use secrecy::ExposeSecret as _;
use std::{io, sync::Arc};

/// Size of one part of a multipart upload (S3's minimum is 5 MiB).
pub const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts buffered or in flight per upload.
pub const PARTS_IN_FLIGHT: usize = 2;

#[derive(Clone, Debug)]
pub struct S3Store {
    client: Arc<AmazonS3>,
}

/// An object being uploaded.
pub struct S3Writer {
    upload: WriteMultipart,
    key: ObjectKey,
}

impl S3Store {
    /// A client for the configured bucket (no request is made yet).
    pub fn new(config: &S3Config) -> Result<Self, object_store::Error> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_virtual_hosted_style_request(!config.path_style);
        if let Some(endpoint) = &config.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(key) = &config.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &config.secret_access_key {
            builder = builder.with_secret_access_key(secret.expose_secret());
        }
        Ok(Self {
            client: Arc::new(builder.build()?),
        })
    }

    fn path(key: &ObjectKey) -> Path {
        Path::from(key.as_str())
    }

    pub async fn create(&self, tenant: TenantId) -> io::Result<S3Writer> {
        let key = ObjectKey::generate(tenant);
        let upload = self
            .client
            .put_multipart(&Self::path(&key))
            .await
            .map_err(io::Error::from)?;
        Ok(S3Writer {
            upload: WriteMultipart::new_with_chunk_size(upload, PART_BYTES),
            key,
        })
    }

    pub async fn write(&self, writer: &mut S3Writer, chunk: &[u8]) -> io::Result<()> {
        // `write` buffers without bound: wait until a part slot is free first.
        writer
            .upload
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(io::Error::from)?;
        writer.upload.write(chunk);
        Ok(())
    }

    pub async fn commit(&self, writer: S3Writer) -> io::Result<ObjectKey> {
        writer.upload.finish().await.map_err(io::Error::from)?;
        Ok(writer.key)
    }

    pub async fn abort(&self, writer: S3Writer) {
        if let Err(error) = writer.upload.abort().await {
            tracing::warn!(%error, key = writer.key.as_str(), "aborting an S3 upload");
        }
    }

    pub async fn open(&self, key: &ObjectKey) -> io::Result<ObjectReader> {
        self.get(key, GetOptions::default()).await
    }

    pub async fn open_range(
        &self,
        key: &ObjectKey,
        first: u64,
        len: u64,
    ) -> io::Result<ObjectReader> {
        let options = GetOptions {
            range: Some((first..first + len).into()),
            ..GetOptions::default()
        };
        self.get(key, options).await
    }

    async fn get(&self, key: &ObjectKey, options: GetOptions) -> io::Result<ObjectReader> {
        let result = self
            .client
            .get_opts(&Self::path(key), options)
            .await
            .map_err(io::Error::from)?;
        let stream = result.into_stream().map_err(io::Error::from);
        Ok(Box::pin(tokio_util::io::StreamReader::new(stream)))
    }

    pub async fn delete(&self, key: &ObjectKey) -> io::Result<()> {
        match self.client.delete(&Self::path(key)).await {
            Err(object_store::Error::NotFound { .. }) | Ok(()) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    pub async fn list(&self, tenant: TenantId) -> io::Result<Vec<Listed>> {
        let prefix = Path::from(tenant.0.simple().to_string());
        let mut objects = self.client.list(Some(&prefix));
        let mut found = Vec::new();
        while let Some(meta) = objects.next().await {
            let meta = meta.map_err(io::Error::from)?;
            let Some(key) = ObjectKey::parse(meta.location.as_ref()) else {
                continue;
            };
            let nanos = meta
                .last_modified
                .timestamp_nanos_opt()
                .map_or(i128::from(i64::MAX), i128::from);
            let modified =
                time::OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(io::Error::other)?;
            found.push(Listed { key, modified });
        }
        Ok(found)
    }
}
