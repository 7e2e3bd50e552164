//! The connection to an S3 service: credentials, region and endpoint the way every S3 tool takes
//! them, and one current-thread runtime that runs each call to completion (the API is synchronous).

use crate::ArchiveError;
use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_smithy_http_client::tls;

/// Where to connect and as whom. Everything left `None` comes from the standard AWS sources:
/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, `AWS_PROFILE`, the shared
/// `~/.aws/config` and `~/.aws/credentials` files (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`),
/// `credential_process`, web identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), the ECS
/// container and EC2 instance roles; `AWS_REGION` (default `us-east-1`); `AWS_ENDPOINT_URL_S3` or
/// `AWS_ENDPOINT_URL`.
#[derive(Debug, Clone, Default)]
pub struct StoreConfig {
    /// An S3-compatible service's URL (`--endpoint`): MinIO, SeaweedFS, Ceph, a cloud's S3 API.
    pub endpoint: Option<String>,
    /// A named profile of the shared files (`--profile`).
    pub profile: Option<String>,
}

/// A connected S3 client. Requests are addressed path-style (`ENDPOINT/BUCKET/KEY`) when an endpoint
/// is given, as S3-compatible services expect; virtual-host style on AWS.
pub struct Store {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) client: aws_sdk_s3::Client,
    endpoint: Option<String>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// The region used when none is configured (S3 needs one to sign requests).
const DEFAULT_REGION: &str = "us-east-1";

impl Store {
    /// Loads credentials, region and endpoint (no request is made yet: missing credentials show at
    /// the first request).
    ///
    /// # Errors
    /// [`ArchiveError::Config`] when the runtime cannot start or the endpoint is not an http(s) URL.
    pub fn connect(config: &StoreConfig) -> Result<Store, ArchiveError> {
        if let Some(e) = &config.endpoint
            && !(e.starts_with("http://") || e.starts_with("https://"))
        {
            return Err(ArchiveError::Config(format!(
                "endpoint {:?} is not an http:// or https:// URL",
                e.chars().take(200).collect::<String>()
            )));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ArchiveError::Config(format!("cannot start the I/O runtime: {e}")))?;
        // The system's CA certificates only for https: a plain-http endpoint (a store on the local
        // network, a test server) needs none, and a collector image may have none.
        let https = config.endpoint.as_deref().is_none_or(|e| e.starts_with("https://"));
        let tls_context = tls::TlsContext::builder()
            .with_trust_store(tls::TrustStore::empty().with_native_roots(https))
            .build()
            .map_err(|e| ArchiveError::Config(format!("TLS set-up: {e}")))?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring))
            .tls_context(tls_context)
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http);
        if let Some(p) = &config.profile {
            loader = loader.profile_name(p);
        }
        if let Some(e) = &config.endpoint {
            loader = loader.endpoint_url(e);
        }
        let sdk = rt.block_on(loader.load());
        let endpoint = config
            .endpoint
            .clone()
            .or_else(|| sdk.endpoint_url().map(str::to_string));
        let mut s3 = aws_sdk_s3::config::Builder::from(&sdk)
            // We send each part's SHA-256 ourselves and check what comes back ourselves.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if sdk.region().is_none() {
            s3 = s3.region(aws_sdk_s3::config::Region::new(DEFAULT_REGION));
        }
        if endpoint.is_some() {
            s3 = s3.force_path_style(true);
        }
        Ok(Store {
            client: aws_sdk_s3::Client::from_conf(s3.build()),
            rt,
            endpoint,
        })
    }

    /// The custom endpoint in use, if any (recorded in a deposit).
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }
}

/// An SDK error in words: the service's error code and message, or the transport failure.
pub(crate) fn describe<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_s3::error::SdkError;
    match e {
        SdkError::ServiceError(s) => {
            let err = s.err();
            match (err.code(), err.message()) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.to_string(),
                _ => format!("{err}"),
            }
        }
        SdkError::DispatchFailure(d) => format!("could not reach the service: {d:?}"),
        SdkError::TimeoutError(_) => "the request timed out".to_string(),
        SdkError::ResponseError(r) => format!("unreadable answer: {r:?}"),
        other => format!("{}", aws_sdk_s3::error::DisplayErrorContext(other)),
    }
}

/// The service's error code, if the error is the service's answer.
pub(crate) fn code<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> Option<&str>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    match e {
        aws_sdk_s3::error::SdkError::ServiceError(s) => s.err().code(),
        _ => None,
    }
}
