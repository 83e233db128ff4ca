//! Pastes: `paste`, `recentPastes`, `limits`, `createPaste`, `updatePaste`, `forkPaste`,
//! `deletePaste`, `revealPaste`, and the `pasteRevisions` subscription.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, Subscription, Upload};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use tokio::sync::OnceCell;

use super::{app, caller};
use crate::error::AppError;
use crate::pastes::{
    self, Content, Edit, Envelope, ForkOptions, NewFile, NewPaste, Page, Paste, PasteFile, Revision,
};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Visibility")]
pub enum GqlVisibility {
    /// Listed in recentPastes.
    Public,
    /// Readable by anyone with the link.
    Unlisted,
    /// Owner only (needs an account).
    Private,
}

impl From<GqlVisibility> for pastes::Visibility {
    fn from(v: GqlVisibility) -> Self {
        match v {
            GqlVisibility::Public => Self::Public,
            GqlVisibility::Unlisted => Self::Unlisted,
            GqlVisibility::Private => Self::Private,
        }
    }
}

impl From<pastes::Visibility> for GqlVisibility {
    fn from(v: pastes::Visibility) -> Self {
        match v {
            pastes::Visibility::Public => Self::Public,
            pastes::Visibility::Unlisted => Self::Unlisted,
            pastes::Visibility::Private => Self::Private,
        }
    }
}

/// How a paste object came to be, which decides what reading its content costs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// Looked up for this caller: reading the content counts a view.
    Found,
    /// From a listing: reading the content is charged per paste, then counts a view.
    Listed,
    /// Already read for this caller (just created, or revealed): no further view counted.
    Known,
}

/// A paste as GraphQL shows it.
#[derive(Clone)]
pub struct PasteObject {
    paste: Paste,
    origin: Origin,
    /// The paste with its content, once read (by `content` or `files { content }`): read once
    /// per object, so a query asking for both counts one view.
    opened: OnceCell<Option<Paste>>,
}

impl PasteObject {
    /// A paste looked up for this caller (reading its content counts a view).
    pub(super) fn found(paste: Paste) -> Self {
        Self::new(paste, Origin::Found)
    }

    fn new(paste: Paste, origin: Origin) -> Self {
        Self {
            paste,
            origin,
            opened: OnceCell::new(),
        }
    }

    async fn opened(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&Paste>> {
        let opened = self
            .opened
            .get_or_try_init(|| async {
                let pastes = app(ctx).pastes();
                let caller = caller(ctx)?;
                Ok::<_, async_graphql::Error>(Some(match self.origin {
                    Origin::Known => self.paste.clone(),
                    Origin::Found => pastes.open(caller, &self.paste).await?,
                    Origin::Listed => pastes.open_listed(caller, &self.paste).await?,
                }))
            })
            .await?;
        Ok(opened.as_ref())
    }

    /// `?rev=N` when this object shows an earlier revision.
    fn pin(&self) -> String {
        if self.paste.revision() == self.paste.latest_revision() {
            String::new()
        } else {
            format!("?rev={}", self.paste.revision())
        }
    }
}

fn text(content: &Content) -> async_graphql::Result<String> {
    Ok(String::from_utf8(content.text.to_vec()).map_err(AppError::internal)?)
}

/// A path segment with everything but unreserved characters percent-encoded.
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[Object(name = "Paste")]
impl PasteObject {
    async fn id(&self) -> ID {
        ID(self.paste.id().to_owned())
    }

    /// Web page of the paste.
    async fn url(&self, ctx: &Context<'_>) -> String {
        format!(
            "{}/p/{}",
            app(ctx).config().server.base_url(),
            self.paste.id()
        )
    }

    /// Raw text URL (of the first file; of the revision shown). For an encrypted paste it serves
    /// the envelope as application/vnd.pastebin.encrypted+json.
    async fn raw_url(&self, ctx: &Context<'_>) -> String {
        format!(
            "{}/raw/{}{}",
            app(ctx).config().server.base_url(),
            self.paste.id(),
            self.pin()
        )
    }

    /// Every file of the revision shown, as one zip download (refused with ENCRYPTED for an
    /// encrypted paste: the server has no files to put in it).
    async fn zip_url(&self, ctx: &Context<'_>) -> String {
        format!(
            "{}/zip/{}{}",
            app(ctx).config().server.base_url(),
            self.paste.id(),
            self.pin()
        )
    }

    async fn title(&self) -> Option<&str> {
        self.paste.title()
    }

    /// Syntax language hint, e.g. 'rust'; null = plain text. With several files: the paste's
    /// own, or its first file's.
    async fn language(&self) -> Option<&str> {
        self.paste.language()
    }

    async fn visibility(&self) -> GqlVisibility {
        self.paste.visibility().into()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.paste.created_at()
    }

    /// Null = never expires.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.paste.expires_at()
    }

    /// Size of the content in bytes (UTF-8), all files together; of an encrypted paste, its
    /// ciphertext (decoded).
    async fn size_bytes(&self) -> i32 {
        self.paste.size_bytes()
    }

    /// When an admin hid this paste (only admins see hidden pastes); null otherwise.
    async fn hidden_at(&self) -> Option<DateTime<Utc>> {
        self.paste.hidden_at()
    }

    async fn burn_after_reading(&self) -> bool {
        self.paste.burn_after_reading()
    }

    async fn max_views(&self) -> Option<i32> {
        self.paste.max_views()
    }

    /// For maxViews pastes: how many reads remain. Null otherwise.
    async fn remaining_views(&self) -> Option<i32> {
        self.paste.remaining_views()
    }

    /// The text (of the first file: the whole text of a one-file paste; `files` has all).
    /// Reading it counts one view, and reveals a guarded paste: a burn-after-reading paste is
    /// returned once and deleted, a maxViews paste spends one of its remaining views (clients
    /// show a reveal step first: select burnAfterReading / remainingViews without content).
    /// Null for an encrypted paste (see `encrypted`).
    #[graphql(complexity = 5)]
    async fn content(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        if self.paste.is_encrypted() {
            return Ok(None);
        }
        match self.opened(ctx).await?.and_then(Paste::content) {
            Some(c) => text(c).map(Some),
            None => Ok(None),
        }
    }

    /// Whether the paste is end-to-end encrypted (metadata: reading it counts no view). Its
    /// title, language, files and content are then inside `encrypted`, which only a holder of
    /// the link's key can open.
    async fn is_encrypted(&self) -> bool {
        self.paste.is_encrypted()
    }

    /// The envelope of an end-to-end encrypted paste (docs/encryption.md); null for plain
    /// pastes. Reading it counts a view, like content (and for guarded pastes follows the
    /// same rules: a burn-after-reading paste's is returned by revealPaste). content, title,
    /// language and files are null for encrypted pastes.
    #[graphql(complexity = 5)]
    async fn encrypted(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<EncryptedEnvelope>> {
        if !self.paste.is_encrypted() {
            return Ok(None);
        }
        match self.opened(ctx).await?.and_then(Paste::envelope) {
            Some(envelope) => Ok(Some(envelope?.into())),
            None => Ok(None),
        }
    }

    /// The files of the revision shown, in order. Their `content` is read (and counted as one
    /// view of the paste, as `content` is) only when asked for. Null for an encrypted paste
    /// (its files are inside `encrypted`).
    #[graphql(complexity = "5 * child_complexity")]
    async fn files(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<PasteFileObject>>> {
        if self.paste.is_encrypted() {
            return Ok(None);
        }
        let base = format!(
            "{}/raw/{}/",
            app(ctx).config().server.base_url(),
            self.paste.id()
        );
        let pin = self.pin();
        let files = if ctx.look_ahead().field("content").exists() {
            match self.opened(ctx).await? {
                Some(opened) => opened.files().unwrap_or_default(),
                None => app(ctx).pastes().file_list(&self.paste).await?,
            }
        } else {
            app(ctx).pastes().file_list(&self.paste).await?
        };
        Ok(Some(
            files
                .into_iter()
                .map(|file| PasteFileObject {
                    raw_url: format!("{base}{}{pin}", path_segment(file.name())),
                    file,
                })
                .collect(),
        ))
    }

    async fn file_count(&self) -> i32 {
        self.paste.file_count()
    }

    /// The number of the revision shown (1 for a paste never edited).
    async fn revision(&self) -> i32 {
        self.paste.revision()
    }

    /// The number of the paste's current revision.
    async fn latest_revision(&self) -> i32 {
        self.paste.latest_revision()
    }

    /// When the revision shown was made by an edit; null for revision 1.
    async fn edited_at(&self) -> Option<DateTime<Utc>> {
        self.paste.edited_at()
    }

    /// The paste's revisions, newest first (each with its time and what changed).
    // One query of at most 100 small rows, with nothing costly below them: counted once.
    #[graphql(complexity = "child_complexity + 1")]
    async fn revisions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<RevisionConnection> {
        let before = match &after {
            Some(cursor) => Some(
                cursor
                    .parse::<i32>()
                    .map_err(|_| AppError::bad_input("invalid cursor"))?,
            ),
            None => None,
        };
        let page = app(ctx)
            .pastes()
            .revisions(
                caller(ctx)?,
                &self.paste,
                first.unwrap_or(20).into(),
                before,
            )
            .await?;
        let mut c = Connection::new(after.is_some(), page.has_next);
        c.edges.extend(
            page.items
                .into_iter()
                .map(|r| Edge::new(r.number().to_string(), RevisionObject(r))),
        );
        Ok(c)
    }

    /// The paste this one was forked from; null when it is gone or not visible to you.
    async fn forked_from(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<PasteObject>> {
        let Some(source) = self.paste.forked_from() else {
            return Ok(None);
        };
        match app(ctx).pastes().find(caller(ctx)?, source).await {
            Ok(paste) => Ok(Some(PasteObject::new(paste, Origin::Found))),
            Err(AppError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// How many forks were made of this paste: for its owner; null for anyone else.
    async fn fork_count(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<i64>> {
        Ok(app(ctx)
            .pastes()
            .fork_count(caller(ctx)?, &self.paste)
            .await?)
    }

    /// Live total of views.
    async fn views(&self, ctx: &Context<'_>) -> i64 {
        app(ctx).view_stats().live_total(self.paste.id()).await as i64
    }

    /// Owner's username; null for anonymous pastes.
    async fn author(&self) -> Option<&str> {
        self.paste.author()
    }

    /// True when the signed-in viewer owns this paste (may delete or edit it without a token).
    async fn viewer_is_owner(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        Ok(self.paste.is_owned_by(&caller(ctx)?.viewer))
    }
}

/// One file of a paste.
pub struct PasteFileObject {
    file: PasteFile,
    raw_url: String,
}

#[Object(name = "PasteFile")]
impl PasteFileObject {
    /// Unique within the paste (without regard to case).
    async fn name(&self) -> &str {
        self.file.name()
    }

    /// Syntax language hint (given, or detected from the name); null = plain text.
    async fn language(&self) -> Option<&str> {
        self.file.language()
    }

    /// Size of the text in bytes (UTF-8).
    async fn size_bytes(&self) -> i32 {
        self.file.size_bytes()
    }

    /// The text (see Paste.files for when it is read and counted).
    #[graphql(complexity = 5)]
    async fn content(&self) -> async_graphql::Result<Option<String>> {
        self.file.content().map(text).transpose()
    }

    /// Raw text URL of this file (of the revision shown).
    async fn raw_url(&self) -> &str {
        &self.raw_url
    }
}

/// One revision of a paste.
pub struct RevisionObject(Revision);

#[Object(name = "PasteRevision")]
impl RevisionObject {
    async fn number(&self) -> i32 {
        self.0.number()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at()
    }

    async fn title(&self) -> Option<&str> {
        self.0.title()
    }

    async fn language(&self) -> Option<&str> {
        self.0.language()
    }

    async fn size_bytes(&self) -> i32 {
        self.0.size_bytes()
    }

    async fn file_count(&self) -> i32 {
        self.0.file_count()
    }

    /// What changed from the revision before, e.g. "Edited main.rs; added notes.md".
    async fn summary(&self) -> &str {
        self.0.summary()
    }
}

pub type RevisionConnection = Connection<String, RevisionObject>;

pub type PasteConnection = Connection<String, PasteObject>;

/// One page of pastes as a connection.
pub(super) fn connection(page: Page, has_previous: bool) -> PasteConnection {
    let mut c = Connection::new(has_previous, page.has_next);
    c.edges.extend(
        page.items
            .into_iter()
            .map(|paste| Edge::new(paste.cursor(), PasteObject::new(paste, Origin::Listed))),
    );
    c
}

#[derive(SimpleObject)]
pub struct Limits {
    /// Largest accepted content, in bytes.
    max_bytes: i64,
    /// Shortest expiresIn, in seconds.
    min_expires_in: i64,
    /// Longest expiresIn, in seconds.
    max_expires_in: i64,
    /// Whether a paste may never expire (expiresIn: null).
    allow_never_expire: bool,
    /// Whether anonymous users may create pastes.
    allow_anonymous: bool,
    /// Largest maxViews.
    max_views_limit: i32,
    /// Most files in one paste.
    max_files: i32,
    /// Longest file name, in characters.
    max_file_name_length: i32,
    /// Most revisions a paste keeps (an edit beyond is refused).
    max_revisions: i32,
    /// Whether the server refuses writes right now (read-only mode).
    read_only: bool,
}

#[derive(Default)]
pub struct PasteQuery;

#[Object]
impl PasteQuery {
    /// A paste by id, as of `revision` (default: the current one). NOT_FOUND for unknown,
    /// expired, deleted, or private-and-not-yours, and for a revision it does not have.
    async fn paste(
        &self,
        ctx: &Context<'_>,
        id: ID,
        revision: Option<i32>,
    ) -> async_graphql::Result<Option<PasteObject>> {
        let pastes = app(ctx).pastes();
        let caller = caller(ctx)?;
        // Only a reader of the content pays for loading it.
        let look = ctx.look_ahead();
        let with_content = look.field("content").exists()
            || look.field("encrypted").exists()
            || look.field("files").field("content").exists();
        let paste = pastes.find_at(caller, &id, revision, with_content).await?;
        Ok(Some(PasteObject::new(paste, Origin::Found)))
    }

    /// Public pastes, newest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(1, 100) as usize * child_complexity + 1")]
    async fn recent_pastes(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<PasteConnection> {
        let page = app(ctx)
            .pastes()
            .recent(caller(ctx)?, first.unwrap_or(20).into(), after.as_deref())
            .await?;
        Ok(connection(page, after.is_some()))
    }

    /// Server limits, for clients to show before submitting.
    async fn limits(&self, ctx: &Context<'_>) -> Limits {
        let c = app(ctx).config();
        Limits {
            max_bytes: c.limits.max_bytes as i64,
            min_expires_in: c.limits.min_expiry_secs,
            max_expires_in: c.limits.max_expiry_secs,
            allow_never_expire: c.limits.allow_never_expire,
            allow_anonymous: c.limits.allow_anonymous,
            max_views_limit: pastes::MAX_VIEWS_LIMIT,
            max_files: pastes::MAX_FILES as i32,
            max_file_name_length: pastes::MAX_FILE_NAME_LEN as i32,
            max_revisions: pastes::MAX_REVISIONS as i32,
            read_only: c.server.read_only,
        }
    }
}

/// One file of a paste. Give exactly one of `content` and `upload`.
#[derive(InputObject)]
pub struct FileInput {
    /// 1-128 characters; no / or \\, no control or invisible formatting characters; unique
    /// within the paste without regard to case.
    name: String,
    content: Option<String>,
    /// The text as a file of a multipart request (the GraphQL multipart request spec; POST
    /// /graphql with an `apollo-require-preflight` header): for large files, which the server
    /// then holds once instead of twice.
    upload: Option<Upload>,
    /// Null: detected from the name (plain text when it says nothing).
    language: Option<String>,
}

/// The files of a create or an edit, uploads read.
async fn new_files(
    ctx: &Context<'_>,
    files: Option<Vec<FileInput>>,
) -> async_graphql::Result<Option<Vec<NewFile>>> {
    let Some(files) = files else {
        return Ok(None);
    };
    let max = app(ctx).config().limits.max_bytes;
    let mut out = Vec::with_capacity(files.len());
    for f in files {
        let content = match (f.content, f.upload) {
            (Some(text), None) => text,
            (None, Some(upload)) => uploaded_text(ctx, &f.name, &upload, max).await?,
            _ => {
                return Err(AppError::bad_input(format!(
                    "file {:?}: give exactly one of content and upload",
                    f.name
                ))
                .into());
            }
        };
        out.push(NewFile {
            name: f.name,
            content,
            language: f.language,
        });
    }
    Ok(Some(out))
}

/// The text of an uploaded file (async-graphql keeps it in a temporary file until now), read
/// into a string of its size: never more than `max` bytes.
async fn uploaded_text(
    ctx: &Context<'_>,
    name: &str,
    upload: &Upload,
    max: usize,
) -> Result<String, AppError> {
    use tokio::io::AsyncReadExt;
    let unreadable = |e: std::io::Error| {
        AppError::bad_input(format!("file {name:?}: the upload could not be read: {e}"))
    };
    let file = tokio::fs::File::from_std(upload.value(ctx).map_err(unreadable)?.content);
    let len = file.metadata().await.map_err(unreadable)?.len();
    if len > max as u64 {
        return Err(AppError::PayloadTooLarge { limit: max });
    }
    let mut text = Vec::with_capacity(len as usize);
    file.take(max as u64 + 1)
        .read_to_end(&mut text)
        .await
        .map_err(unreadable)?;
    if text.len() > max {
        return Err(AppError::PayloadTooLarge { limit: max });
    }
    String::from_utf8(text)
        .map_err(|_| AppError::bad_input(format!("file {name:?}: content must be UTF-8 text")))
}

/// The envelope of an end-to-end encrypted paste, sealed by the client (docs/encryption.md §6):
/// binary fields are base64url without padding. The server checks its shape (§7: version,
/// algorithm, KDF parameters, strict base64url, sizes; the precise failure is the error's
/// `extensions.reason`) and never decrypts it.
#[derive(InputObject)]
pub struct EncryptedInput {
    /// 1.
    version: i32,
    /// "aes-256-gcm".
    algorithm: String,
    /// "none", or "pbkdf2-sha256" (with a password).
    kdf: String,
    /// 16 bytes with pbkdf2-sha256; null with none.
    salt: Option<String>,
    /// 600000-2000000 with pbkdf2-sha256; null with none.
    iterations: Option<i32>,
    /// 12 bytes.
    nonce: String,
    /// The AES-GCM output (payload and 16-byte tag): at most limits.maxBytes decoded.
    ciphertext: String,
}

impl From<EncryptedInput> for Envelope {
    fn from(e: EncryptedInput) -> Self {
        // A negative number is out of every range: 0 is refused like it.
        let unsigned = |n: i32| u32::try_from(n).unwrap_or(0);
        Self {
            version: unsigned(e.version),
            algorithm: e.algorithm,
            kdf: e.kdf,
            salt: e.salt,
            iterations: e.iterations.map(unsigned),
            nonce: e.nonce,
            ciphertext: e.ciphertext,
        }
    }
}

/// The envelope of an end-to-end encrypted paste, as its author's client sealed it
/// (docs/encryption.md §6). Title, language and files are inside the ciphertext.
#[derive(SimpleObject)]
pub struct EncryptedEnvelope {
    version: i32,
    algorithm: String,
    kdf: String,
    salt: Option<String>,
    iterations: Option<i32>,
    nonce: String,
    ciphertext: String,
}

impl From<Envelope> for EncryptedEnvelope {
    fn from(e: Envelope) -> Self {
        // Stored envelopes were validated: their numbers are small.
        let signed = |n: u32| i32::try_from(n).unwrap_or(i32::MAX);
        Self {
            version: signed(e.version),
            algorithm: e.algorithm,
            kdf: e.kdf,
            salt: e.salt,
            iterations: e.iterations.map(signed),
            nonce: e.nonce,
            ciphertext: e.ciphertext,
        }
    }
}

/// A new paste. Give exactly one of `content` (a one-file paste), `files` and `encrypted`.
#[derive(InputObject)]
pub struct CreatePasteInput {
    /// The text of a one-file paste (its file is named after the language, e.g. paste.rs).
    content: Option<String>,
    /// 1-20 files; the size limit applies to their total.
    files: Option<Vec<FileInput>>,
    /// An end-to-end encrypted paste: its envelope, holding its files, title and language
    /// (give no title or language beside it). Its sizeBytes is the ciphertext's.
    encrypted: Option<EncryptedInput>,
    title: Option<String>,
    /// With files: null = the first file's.
    language: Option<String>,
    /// Seconds until the paste expires; null = never.
    expires_in: Option<i64>,
    #[graphql(default_with = "GqlVisibility::Unlisted")]
    visibility: GqlVisibility,
    #[graphql(default = false)]
    burn_after_reading: bool,
    /// Delete after this many reads.
    max_views: Option<i32>,
    /// Client-chosen key (8-64 chars of A-Z a-z 0-9 - _); retrying a create with the same key
    /// returns the same paste instead of a second one.
    idempotency_key: Option<String>,
}

impl From<CreatePasteInput> for NewPaste {
    fn from(input: CreatePasteInput) -> Self {
        Self {
            content: input.content,
            // Read by `new_files` (uploads are read there).
            files: None,
            encrypted: input.encrypted.map(Envelope::from),
            title: input.title,
            language: input.language,
            expires_in: input.expires_in,
            visibility: input.visibility.into(),
            burn_after_reading: input.burn_after_reading,
            max_views: input.max_views,
            idempotency_key: input.idempotency_key,
        }
    }
}

/// A new revision of a paste: its whole title, language and files (what is left out is gone
/// from the new revision). Give exactly one of `content` and `files` — or, for an encrypted
/// paste, `encrypted`: a new envelope (and no title or language).
#[derive(InputObject)]
pub struct UpdatePasteInput {
    /// The revision this edit starts from (Paste.revision as you read it). When the paste has
    /// a newer one, the edit is refused with CONFLICT.
    base_revision: i32,
    title: Option<String>,
    language: Option<String>,
    content: Option<String>,
    files: Option<Vec<FileInput>>,
    encrypted: Option<EncryptedInput>,
}

impl From<UpdatePasteInput> for Edit {
    fn from(input: UpdatePasteInput) -> Self {
        Self {
            base_revision: input.base_revision,
            title: input.title,
            language: input.language,
            content: input.content,
            // Read by `new_files` (uploads are read there).
            files: None,
            encrypted: input.encrypted.map(Envelope::from),
        }
    }
}

#[derive(SimpleObject)]
pub struct CreatePastePayload {
    paste: PasteObject,
    /// Only for anonymous pastes: shown once, needed to delete the paste.
    delete_token: Option<String>,
}

#[derive(Default)]
pub struct PasteMutation;

#[Object]
impl PasteMutation {
    async fn create_paste(
        &self,
        ctx: &Context<'_>,
        mut input: CreatePasteInput,
    ) -> async_graphql::Result<CreatePastePayload> {
        let files = new_files(ctx, input.files.take()).await?;
        let input = NewPaste {
            files,
            ..input.into()
        };
        let created = app(ctx).pastes().create(caller(ctx)?, input).await?;
        Ok(CreatePastePayload {
            paste: PasteObject::new(created.paste, Origin::Known),
            delete_token: created.delete_token,
        })
    }

    /// A new revision of a paste: for its owner, or (anonymous pastes) the holder of its delete
    /// token. CONFLICT when `input.baseRevision` is no longer the current revision; FORBIDDEN for
    /// burn-after-reading and maxViews pastes. Returns the paste at its new revision.
    async fn update_paste(
        &self,
        ctx: &Context<'_>,
        id: ID,
        mut input: UpdatePasteInput,
        delete_token: Option<String>,
    ) -> async_graphql::Result<PasteObject> {
        let files = new_files(ctx, input.files.take()).await?;
        let edit = Edit {
            files,
            ..input.into()
        };
        let paste = app(ctx)
            .pastes()
            .edit(caller(ctx)?, &id, delete_token.as_deref(), edit)
            .await?;
        Ok(PasteObject::new(paste, Origin::Known))
    }

    /// A new paste of yours copied from a paste you can read (of `revision`, default the
    /// current one), linked to it (Paste.forkedFrom). The create rules apply: an anonymous fork
    /// gets a delete token. FORBIDDEN for burn-after-reading and maxViews pastes.
    async fn fork_paste(
        &self,
        ctx: &Context<'_>,
        id: ID,
        revision: Option<i32>,
        #[graphql(desc = "Null: UNLISTED.")] visibility: Option<GqlVisibility>,
        #[graphql(desc = "Seconds until the fork expires; null = never.")] expires_in: Option<i64>,
    ) -> async_graphql::Result<CreatePastePayload> {
        let options = ForkOptions {
            revision,
            visibility: visibility.unwrap_or(GqlVisibility::Unlisted).into(),
            expires_in,
        };
        let created = app(ctx).pastes().fork(caller(ctx)?, &id, options).await?;
        Ok(CreatePastePayload {
            paste: PasteObject::new(created.paste, Origin::Known),
            delete_token: created.delete_token,
        })
    }

    /// Owner (signed in) or holder of the delete token. True when deleted.
    async fn delete_paste(
        &self,
        ctx: &Context<'_>,
        id: ID,
        delete_token: Option<String>,
    ) -> async_graphql::Result<bool> {
        app(ctx)
            .pastes()
            .delete(caller(ctx)?, &id, delete_token.as_deref())
            .await?;
        Ok(true)
    }

    /// Reveals a paste: its content, spending a view of a guarded paste (a burn-after-reading
    /// paste is returned once, then it is gone).
    async fn reveal_paste(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<PasteObject> {
        let paste = app(ctx).pastes().reveal(caller(ctx)?, &id).await?;
        Ok(PasteObject::new(paste, Origin::Known))
    }
}

#[derive(Default)]
pub struct RevisionSubscription;

#[Subscription]
impl RevisionSubscription {
    /// The paste's current revision number now, then each new one as it is made (on any
    /// instance). Ends when the paste is deleted, burned or expires.
    async fn paste_revisions(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<impl Stream<Item = i32> + use<>> {
        Ok(app(ctx).pastes().watch_revisions(caller(ctx)?, &id).await?)
    }
}
