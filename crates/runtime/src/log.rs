//! The record of every API call made.

use crate::error::{ApiError, api_name};
use forensic_bundle::time::Timestamp;
use forensic_evidence::records::api::{Api, ApiCall, ApiOutcome};
use std::future::Future;
use std::time::Duration;

/// Collects an [`ApiCall`] for every call made through it, stamping times with the caller's
/// clock.
pub struct CallLog<'a> {
    now: &'a (dyn Fn() -> Timestamp + 'a),
    /// The calls, in the order made.
    pub calls: Vec<ApiCall>,
}

impl<'a> CallLog<'a> {
    /// A log stamping times with `now`.
    pub fn new(now: &'a (dyn Fn() -> Timestamp + 'a)) -> Self {
        CallLog { now, calls: Vec::new() }
    }

    /// Takes the calls recorded so far.
    pub fn take(&mut self) -> Vec<ApiCall> {
        std::mem::take(&mut self.calls)
    }
}

/// Where a call goes and what it asks: the fields every record and error share.
#[derive(Clone)]
pub(crate) struct Site {
    pub api: Api,
    pub socket: String,
    pub namespace: Option<String>,
}

/// A call's failure, before it is turned into an [`ApiError`].
pub(crate) enum Failure {
    NotFound(String),
    Other(String),
}

impl Site {
    pub(crate) fn error(&self, call: &str, argument: &str, f: Failure) -> ApiError {
        let (api, socket, call, argument) = (
            api_name(self.api),
            self.socket.clone(),
            call.to_string(),
            argument.to_string(),
        );
        match f {
            Failure::NotFound(reason) => ApiError::NotFound {
                api,
                socket,
                call,
                argument,
                reason,
            },
            Failure::Other(reason) => ApiError::Call {
                api,
                socket,
                call,
                argument,
                reason,
            },
        }
    }

    /// Runs `fut` with a timeout, recording the call; `size` tells the bytes of an answer.
    pub(crate) async fn timed<T, F>(
        &self,
        log: &mut CallLog<'_>,
        call: &str,
        argument: &str,
        timeout: Duration,
        size: impl FnOnce(&T) -> u64,
        fut: F,
    ) -> Result<T, ApiError>
    where
        F: Future<Output = Result<T, Failure>>,
    {
        let started = (log.now)();
        let answer = tokio::time::timeout(timeout, fut).await;
        let finished = (log.now)();
        let mut record = ApiCall {
            api: self.api,
            socket: self.socket.clone(),
            namespace: self.namespace.clone(),
            call: call.to_string(),
            argument: (!argument.is_empty()).then(|| argument.to_string()),
            started,
            finished,
            outcome: ApiOutcome::Ok,
            bytes: 0,
            error: None,
        };
        let result = match answer {
            Err(_) => {
                record.outcome = ApiOutcome::TimedOut;
                record.error = Some(format!("no answer within {} s", timeout.as_secs()));
                Err(ApiError::Timeout {
                    api: api_name(self.api),
                    socket: self.socket.clone(),
                    call: call.to_string(),
                    argument: argument.to_string(),
                    seconds: timeout.as_secs(),
                })
            }
            Ok(Ok(v)) => {
                record.bytes = size(&v);
                Ok(v)
            }
            Ok(Err(f)) => {
                let e = self.error(call, argument, f);
                record.outcome = if e.is_not_found() {
                    ApiOutcome::NotFound
                } else {
                    ApiOutcome::Error
                };
                record.error = Some(e.to_string());
                Err(e)
            }
        };
        log.calls.push(record);
        result
    }
}

/// A current-thread runtime for one synchronous call.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, ApiError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ApiError::Setup(format!("cannot start the async runtime for an API call: {e}")))
}
