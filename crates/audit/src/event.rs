//! One audit event as read: the public, borrowed view of a record the classifier accepted.

use crate::query::User;
use crate::raw::{RawRecord, RawUser};

/// One audit event: one stage of one request, as the log holds it (after unwrapping an AKS or
/// container-runtime wrapper, or taking it out of an `EventList` or array).
///
/// A view borrowed from the record being read: it is valid during the visit of
/// [`crate::EventReader::read`] only; copy what must outlive it (or give it to a
/// [`crate::Collector`], which keeps what a query needs). Strings are the log's, unescaped but
/// otherwise untouched (they may hold control characters: escape them before printing).
#[derive(Debug, Clone, Copy)]
pub struct Event<'r> {
    pub(crate) raw: &'r RawRecord<'r>,
    pub(crate) wrapper: Option<&'static str>,
    pub(crate) input: usize,
    pub(crate) line: u64,
    pub(crate) offset: u64,
}

fn user_of(u: &RawUser<'_>) -> User {
    User {
        username: u.username.as_deref().unwrap_or("").to_string(),
        uid: u.uid.as_deref().map(str::to_string),
        groups: u.groups.iter().flatten().map(|g| g.to_string()).collect(),
    }
}

impl<'r> Event<'r> {
    /// When the request was received, as the log writes it: `requestReceivedTimestamp`, else
    /// `stageTimestamp`, else `timestamp` (`v1alpha1`, `v1beta1`). Not parsed.
    pub fn time(&self) -> Option<&'r str> {
        self.raw.time()
    }

    /// `auditID` (every event has one; the classifier skips records without).
    pub fn audit_id(&self) -> &'r str {
        self.raw.audit_id.as_deref().unwrap_or("")
    }

    /// `stage`: `RequestReceived`, `ResponseStarted`, `ResponseComplete` or `Panic`.
    pub fn stage(&self) -> Option<&'r str> {
        self.raw.stage.as_deref()
    }

    /// `verb` (every event has one).
    pub fn verb(&self) -> &'r str {
        self.raw.verb()
    }

    /// The authenticated user (`user`); empty when the event has none.
    pub fn user(&self) -> User {
        self.raw.user.as_ref().map(user_of).unwrap_or_default()
    }

    /// `user.username`, when there is one.
    pub fn username(&self) -> Option<&'r str> {
        self.raw.user.as_ref().and_then(|u| u.username.as_deref())
    }

    /// The user the request was made as (`impersonatedUser`), when impersonating.
    pub fn impersonated_user(&self) -> Option<User> {
        self.raw.impersonated_user.as_ref().map(user_of)
    }

    /// `sourceIPs`, the client's first.
    pub fn source_ips(&self) -> impl Iterator<Item = &'r str> + 'r {
        self.raw.source_ips.iter().flatten().map(|s| s.as_ref())
    }

    /// `userAgent`.
    pub fn user_agent(&self) -> Option<&'r str> {
        self.raw.user_agent.as_deref()
    }

    /// `objectRef.resource`.
    pub fn resource(&self) -> Option<&'r str> {
        non_empty(self.raw.resource())
    }

    /// `objectRef.subresource`.
    pub fn subresource(&self) -> Option<&'r str> {
        non_empty(self.raw.subresource())
    }

    /// `objectRef.namespace`.
    pub fn namespace(&self) -> Option<&'r str> {
        non_empty(self.raw.namespace())
    }

    /// `objectRef.name`.
    pub fn name(&self) -> Option<&'r str> {
        non_empty(self.raw.name())
    }

    /// `objectRef.apiGroup` (`""` is the core group).
    pub fn api_group(&self) -> Option<&'r str> {
        self.raw.object_ref.as_ref().and_then(|o| o.api_group.as_deref())
    }

    /// `responseStatus.code`; `None` for a stage without a response status.
    pub fn code(&self) -> Option<i64> {
        self.raw.response_status.as_ref().and_then(|s| s.code)
    }

    /// `requestURI`.
    pub fn request_uri(&self) -> Option<&'r str> {
        self.raw.request_uri.as_deref()
    }

    /// The event's `apiVersion`; `None` when it has none.
    pub fn api_version(&self) -> Option<&'r str> {
        self.raw.api_version.as_deref()
    }

    /// `level`.
    pub fn level(&self) -> Option<&'r str> {
        self.raw.level.as_deref()
    }

    /// The wrapper the event was found in (`properties.log`, `properties.log (JSON string)`,
    /// `log`, `log (JSON string)`), if any.
    pub fn wrapper(&self) -> Option<&'static str> {
        self.wrapper
    }

    /// The input it was read from: the index in [`crate::EventReader::inputs`] (and in
    /// [`crate::AuditReport::inputs`]).
    pub fn input(&self) -> usize {
        self.input
    }

    /// The 1-based line where its record starts.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// The byte offset where its record starts (in the decompressed stream for `.gz`).
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}
