//! Shared state outside Postgres: the two-tier paste cache ([`PasteCache`], here), the live view
//! counts ([`live_counts`]), verified access tokens ([`tokens`]), the pub/sub watchers ([`watchers`]), rate limits ([`ratelimit`]),
//! the analytics hand-off batches ([`handoff`]) and once-only claims ([`locks`]), all on one
//! Redis client ([`redis`]). Every Redis key name lives under this module.
//!
//! Paste cache: a weight-limited moka cache in process, in front of Redis (TTL).
//! Invalidation after a delete:
//! - Redis: the key is overwritten with a tombstone, and fills only write over nothing, so a
//!   reader that loaded the paste just before the delete cannot put it back. An edit's
//!   tombstone names the new revision (`R{n}`): a fill of that revision (or a later one) may
//!   replace it, a fill of an older one may not, so an edited paste is cached again at once.
//! - Other instances: a pub/sub message drops their in-process entry. An instance trusts its
//!   in-process cache only while its pub/sub listener is subscribed (it clears the cache on
//!   every (re)subscribe, since messages may have been missed); a fill that raced with an
//!   invalidation is not stored (invalidation epoch). In-process entries also expire after
//!   [`LOCAL_TTL`] as a backstop.
//! - When Redis cannot be told, the invalidation stays recorded in Postgres: ids with a
//!   pending invalidation are served from neither tier on any instance, and nothing is served
//!   from a cache while the pending set has not been read recently (see
//!   `services::invalidations`).
//!
//! Only plain pastes are cached: burn-after-reading and `maxViews` pastes are claimed on the
//! primary on every read. Callers check expiry and visibility after every hit.

pub mod handoff;
pub mod live_counts;
pub mod locks;
pub mod ratelimit;
pub mod redis;
pub mod sign_ins;
pub mod tokens;
pub mod watchers;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use metrics::Counter;
use tokio::sync::Semaphore;

use self::redis::Redis;
use super::db::models::{FileRow, PasteMeta};

/// Backstop lifetime of an in-process entry.
pub const LOCAL_TTL: Duration = Duration::from_secs(60);
/// Bodies larger than this stay out of the in-process tier (they would crowd out many small
/// hot pastes and inflate the process); Redis keeps bodies up to [`MAX_SHARED_BODY`].
pub const MAX_LOCAL_BODY: usize = 64 * 1024;
pub const MAX_SHARED_BODY: usize = 1024 * 1024;

/// Background Redis fills running at once ([`PasteCache::fill_behind`]): enough for every
/// connection of a busy instance, few enough that a slow Redis cannot pile up bodies in memory.
const MAX_FILLS_IN_FLIGHT: usize = 256;
/// Fixed cost of an entry besides its body, for the weigher.
const ENTRY_OVERHEAD: u32 = 512;

// P3: metadata gained `encrypted` (an older instance's entry would lack it).
const ENTRY_MAGIC: &[u8; 2] = b"P3";
const TOMBSTONE: &[u8] = b"T";

/// Stores an entry (ARGV[1], for ARGV[2] seconds) of revision ARGV[3] unless the key holds
/// anything but an edit's tombstone of that revision or an earlier one.
const FILL_SCRIPT: &str = r#"
local current = redis.call('GET', KEYS[1])
if current then
  if string.sub(current, 1, 1) ~= 'R' then return 0 end
  local edited = tonumber(string.sub(current, 2))
  if not edited or edited > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"#;

/// A paste's text and a strong validator of it, made once when the text is loaded.
#[derive(Clone, Debug)]
pub struct Content {
    /// The decompressed UTF-8 text.
    pub text: Bytes,
    /// `"<hex>"`: the first 16 bytes of the text's sha256, quoted (an HTTP ETag).
    pub etag: Bytes,
}

/// One file of a paste ready to serve.
#[derive(Clone, Debug)]
pub struct CachedFile {
    pub row: FileRow,
    pub content: Content,
}

/// A paste ready to serve: metadata and the files of one revision (never empty).
#[derive(Clone, Debug)]
pub struct CachedPaste {
    pub meta: PasteMeta,
    pub files: Vec<CachedFile>,
}

impl CachedPaste {
    /// `files` in order, each with its text.
    pub fn new(meta: PasteMeta, files: Vec<(FileRow, Bytes)>) -> Self {
        let files = files
            .into_iter()
            .map(|(row, text)| {
                let etag = content_tag(&row.content_sha256);
                CachedFile {
                    row,
                    content: Content { text, etag },
                }
            })
            .collect();
        Self { meta, files }
    }

    /// The first file's content: what a one-file paste is (and what `/raw/{id}` and the REST
    /// API serve of any paste).
    pub fn first(&self) -> Option<&Content> {
        self.files.first().map(|f| &f.content)
    }

    /// Bytes of text of all files.
    fn text_len(&self) -> usize {
        self.files.iter().map(|f| f.content.text.len()).sum()
    }

    /// Bytes this entry holds, roughly, for the in-process cache's weight limit.
    fn weight(&self) -> usize {
        let row = &self.meta.row;
        let len = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        let strings = row.id.len() + len(&row.title) + len(&row.language) + len(&self.meta.author);
        let files: usize = self
            .files
            .iter()
            .map(|f| {
                f.content.text.len()
                    + f.content.etag.len()
                    + f.row.name.len()
                    + len(&f.row.language)
                    + f.row.content_sha256.len()
                    + 64
            })
            .sum();
        ENTRY_OVERHEAD as usize + strings + row.content_sha256.len() + files
    }
}

/// `"<hex of the first 16 bytes of a sha256>"`.
pub(crate) fn content_tag(sha: &[u8]) -> Bytes {
    Bytes::from(format!("\"{}\"", hex::encode(&sha[..sha.len().min(16)])))
}

/// Which tier answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Local,
    Shared,
}

struct CacheMetrics {
    local_hit: Counter,
    local_miss: Counter,
    shared_hit: Counter,
    shared_miss: Counter,
    /// Background Redis fills skipped because `MAX_FILLS_IN_FLIGHT` were running.
    fill_skipped: Counter,
}

impl CacheMetrics {
    fn new() -> Self {
        let c = |tier: &'static str, result: &'static str| metrics::counter!("pastebin_cache_requests_total", "tier" => tier, "result" => result);
        Self {
            local_hit: c("local", "hit"),
            local_miss: c("local", "miss"),
            shared_hit: c("redis", "hit"),
            shared_miss: c("redis", "miss"),
            fill_skipped: metrics::counter!("pastebin_cache_fills_skipped_total"),
        }
    }
}

#[derive(Clone)]
pub struct PasteCache {
    local: moka::sync::Cache<String, Arc<CachedPaste>>,
    redis: Redis,
    ttl: Duration,
    /// Whether the in-process tier may be used (see module docs).
    local_trusted: Arc<AtomicBool>,
    /// Bumped by every invalidation; a fill that saw it change does not store.
    epoch: Arc<AtomicU64>,
    /// Ids whose invalidation is recorded in Postgres and not yet delivered: never served
    /// from a cache. `pending_any` spares the hot path the lock while there are none.
    pending: Arc<RwLock<HashSet<String>>>,
    pending_any: Arc<AtomicBool>,
    /// Until when (ms since `started`) the pending set counts as current: the caches are used
    /// only while the set was read recently (see `services::invalidations`).
    fresh_until_ms: Arc<AtomicI64>,
    started: Instant,
    metrics: Arc<CacheMetrics>,
    fill_script: Arc<::redis::Script>,
    fills_in_flight: Arc<Semaphore>,
}

/// Taken before loading a paste from the database; hands the fill its staleness check.
#[derive(Clone, Copy, Debug)]
pub struct FillTicket(u64);

impl PasteCache {
    pub fn new(redis: Redis, max_bytes: u64, ttl: Duration) -> Self {
        let local = moka::sync::Cache::builder()
            .max_capacity(max_bytes)
            .weigher(|_id: &String, p: &Arc<CachedPaste>| {
                u32::try_from(p.weight()).unwrap_or(u32::MAX)
            })
            .time_to_live(LOCAL_TTL)
            .build();
        // Without Redis there is no other instance to hear from: the local tier is the truth.
        let local_trusted = Arc::new(AtomicBool::new(!redis.is_configured()));
        Self {
            local,
            redis,
            ttl,
            local_trusted,
            epoch: Arc::new(AtomicU64::new(0)),
            pending: Arc::default(),
            pending_any: Arc::default(),
            fresh_until_ms: Arc::new(AtomicI64::new(0)),
            started: Instant::now(),
            metrics: Arc::new(CacheMetrics::new()),
            fill_script: Arc::new(::redis::Script::new(FILL_SCRIPT)),
            fills_in_flight: Arc::new(Semaphore::new(MAX_FILLS_IN_FLIGHT)),
        }
    }

    fn now_ms(&self) -> i64 {
        self.started.elapsed().as_millis() as i64
    }

    /// Whether a cached copy of `id` may be served: the pending invalidations were read
    /// recently, and `id` is not among them.
    fn servable(&self, id: &str) -> bool {
        if self.now_ms() >= self.fresh_until_ms.load(Ordering::Acquire) {
            return false;
        }
        !(self.pending_any.load(Ordering::Acquire)
            && self
                .pending
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .contains(id))
    }

    /// The invalidations recorded in Postgres and not yet delivered, as just read: their ids
    /// are dropped here and not served from a cache until they are delivered; the set counts as
    /// current for `fresh_for`.
    pub(crate) fn set_pending(&self, ids: HashSet<String>, fresh_for: Duration) {
        {
            let mut pending = self.pending.write().unwrap_or_else(|e| e.into_inner());
            for id in ids.difference(&pending) {
                self.invalidate_local(id);
            }
            self.pending_any.store(!ids.is_empty(), Ordering::Release);
            *pending = ids;
        }
        self.fresh_until_ms.store(
            self.now_ms() + fresh_for.as_millis() as i64,
            Ordering::Release,
        );
    }

    /// The pending invalidations could not be read: no cached copy is served until they are.
    pub(crate) fn set_pending_unknown(&self) {
        self.fresh_until_ms.store(0, Ordering::Release);
    }

    /// Whether cached copies are served now (the listener is subscribed and the pending
    /// invalidations were read recently).
    pub fn serving(&self) -> bool {
        self.local_trusted() && self.now_ms() < self.fresh_until_ms.load(Ordering::Acquire)
    }

    pub fn ticket(&self) -> FillTicket {
        FillTicket(self.epoch.load(Ordering::Acquire))
    }

    /// In-process tier only: no await, for the hot path.
    pub fn get_local(&self, id: &str) -> Option<Arc<CachedPaste>> {
        if !self.local_trusted.load(Ordering::Acquire) || !self.servable(id) {
            return None;
        }
        let hit = self.local.get(id);
        if hit.is_some() {
            &self.metrics.local_hit
        } else {
            &self.metrics.local_miss
        }
        .increment(1);
        hit
    }

    /// Both tiers; a Redis hit is copied into the in-process tier.
    pub async fn get(&self, id: &str) -> Option<(Arc<CachedPaste>, Tier)> {
        if let Some(p) = self.get_local(id) {
            return Some((p, Tier::Local));
        }
        if !self.redis.is_configured() || !self.servable(id) {
            return None;
        }
        let ticket = self.ticket();
        let key = self.redis.key(format_args!("paste:{id}"));
        let raw: Option<Vec<u8>> = self
            .redis
            .run("cache_get", move |mut c| async move {
                ::redis::cmd("GET").arg(&key).query_async(&mut c).await
            })
            .await
            .ok()
            .flatten();
        let Some(entry) = raw.as_deref().and_then(decode_entry) else {
            self.metrics.shared_miss.increment(1);
            return None;
        };
        self.metrics.shared_hit.increment(1);
        let entry = Arc::new(entry);
        self.store_local(ticket, &entry);
        Some((entry, Tier::Shared))
    }

    /// Stores a paste loaded from the database in both tiers. `compressed` is the zstd form
    /// of each file's body, in order (what Redis keeps).
    pub async fn fill(&self, ticket: FillTicket, entry: &Arc<CachedPaste>, compressed: &[Vec<u8>]) {
        if entry.text_len() > MAX_SHARED_BODY || !cacheable(&entry.meta) {
            return;
        }
        self.store_local(ticket, entry);
        self.fill_shared(ticket, entry, compressed).await;
    }

    /// The Redis half of a fill.
    async fn fill_shared(
        &self,
        ticket: FillTicket,
        entry: &Arc<CachedPaste>,
        compressed: &[Vec<u8>],
    ) {
        if !self.redis.is_configured() || ticket.0 != self.epoch.load(Ordering::Acquire) {
            return;
        }
        let key = self.redis.key(format_args!("paste:{}", entry.meta.row.id));
        let value = encode_entry(entry, compressed);
        let ttl = self.ttl.as_secs().max(1);
        let revision = entry.meta.row.revision;
        // Never over a delete's tombstone, an older edit's entry or a newer edit's tombstone.
        let script = Arc::clone(&self.fill_script);
        let _ = self
            .redis
            .run("cache_fill", move |mut c| async move {
                script
                    .key(&key)
                    .arg(value)
                    .arg(ttl)
                    .arg(revision)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await;
    }

    /// [`PasteCache::fill`] for a reader who has its answer already: the in-process tier now,
    /// Redis in the background, so a cold read does not wait for a write it does not need. The
    /// ticket still guards the Redis write (and its script still refuses to cover a tombstone),
    /// so a late fill cannot bring back a paste deleted meanwhile. At most
    /// `MAX_FILLS_IN_FLIGHT` run at once; a fill beyond that is skipped (the next reader fills).
    pub fn fill_behind(
        &self,
        ticket: FillTicket,
        entry: &Arc<CachedPaste>,
        compressed: Vec<Vec<u8>>,
    ) {
        if entry.text_len() > MAX_SHARED_BODY || !cacheable(&entry.meta) {
            return;
        }
        self.store_local(ticket, entry);
        if !self.redis.is_configured() || ticket.0 != self.epoch.load(Ordering::Acquire) {
            return;
        }
        let Ok(permit) = Arc::clone(&self.fills_in_flight).try_acquire_owned() else {
            self.metrics.fill_skipped.increment(1);
            return;
        };
        let (cache, entry) = (self.clone(), Arc::clone(entry));
        tokio::spawn(async move {
            cache.fill_shared(ticket, &entry, &compressed).await;
            drop(permit);
        });
    }

    fn store_local(&self, ticket: FillTicket, entry: &Arc<CachedPaste>) {
        if self.local_trusted.load(Ordering::Acquire)
            && ticket.0 == self.epoch.load(Ordering::Acquire)
            && entry.text_len() <= MAX_LOCAL_BODY
            && cacheable(&entry.meta)
        {
            self.local
                .insert(entry.meta.row.id.clone(), Arc::clone(entry));
        }
    }

    /// Stores a paste this process just created in the in-process tier only: the creator's next
    /// read is local; other instances fill Redis on their first read. (Writing Redis here was
    /// ~11% of a create's cost.)
    pub fn fill_local(&self, ticket: FillTicket, entry: &Arc<CachedPaste>) {
        self.store_local(ticket, entry);
    }

    /// Forgets pastes that are gone everywhere: this process, Redis (tombstones), other
    /// processes (pub/sub), in one round trip. Returns whether Redis has it (or there is no
    /// Redis).
    pub async fn invalidate(&self, ids: &[String]) -> bool {
        let items: Vec<_> = ids
            .iter()
            .map(|id| (id.clone(), TOMBSTONE.to_vec(), id.clone()))
            .collect();
        self.send_invalidations(items).await
    }

    /// [`PasteCache::invalidate`] after an edit: the same, but the tombstone names the new
    /// revision (its fill may land) and the message tells the other processes the new revision
    /// (`"{id} {revision}"`) instead of the paste being gone.
    pub async fn invalidate_edited(&self, id: &str, revision: i32) -> bool {
        let tombstone = format!("R{revision}").into_bytes();
        self.send_invalidations(vec![(id.to_owned(), tombstone, format!("{id} {revision}"))])
            .await
    }

    async fn send_invalidations(&self, items: Vec<(String, Vec<u8>, String)>) -> bool {
        for (id, _, _) in &items {
            self.invalidate_local(id);
        }
        if !self.redis.is_configured() || items.is_empty() {
            return true;
        }
        let channel = self.redis.key("invalidate");
        let ttl = self.ttl.as_secs().max(1);
        let mut pipe = ::redis::pipe();
        for (id, tombstone, message) in items {
            pipe.cmd("SET")
                .arg(self.redis.key(format_args!("paste:{id}")))
                .arg(tombstone)
                .arg("EX")
                .arg(ttl)
                .ignore()
                .cmd("PUBLISH")
                .arg(&channel)
                .arg(message)
                .ignore();
        }
        self.redis
            .run("cache_invalidate", move |mut c| async move {
                pipe.query_async::<()>(&mut c).await
            })
            .await
            .is_ok()
    }

    /// Drops a paste from this process only (another instance deleted it).
    pub fn invalidate_local(&self, id: &str) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.local.invalidate(id);
    }

    /// Called by the pub/sub listener: on subscribe the in-process tier starts empty and is
    /// trusted; on losing the subscription it is no longer trusted.
    pub(crate) fn set_local_trusted(&self, trusted: bool) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.local.invalidate_all();
        self.local_trusted.store(trusted, Ordering::Release);
    }

    /// Whether the in-process tier is in use (the pub/sub listener is subscribed).
    pub fn local_trusted(&self) -> bool {
        self.local_trusted.load(Ordering::Acquire)
    }

    pub fn local_weight(&self) -> u64 {
        self.local.run_pending_tasks();
        self.local.weighted_size()
    }
}

fn cacheable(meta: &PasteMeta) -> bool {
    !meta.row.burn_after_reading && meta.row.max_views.is_none() && meta.row.hidden_at.is_none()
}

/// `P3`, the length of the JSON of metadata and file rows, that JSON, then each file's zstd
/// body after its length.
fn encode_entry(entry: &CachedPaste, compressed: &[Vec<u8>]) -> Vec<u8> {
    let rows: Vec<&FileRow> = entry.files.iter().map(|f| &f.row).collect();
    let json = serde_json::to_vec(&(&entry.meta, rows)).expect("paste metadata serializes");
    let bodies: usize = compressed.iter().map(|c| 4 + c.len()).sum();
    let mut out = Vec::with_capacity(6 + json.len() + bodies);
    out.extend_from_slice(ENTRY_MAGIC);
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    for c in compressed {
        out.extend_from_slice(&(c.len() as u32).to_le_bytes());
        out.extend_from_slice(c);
    }
    out
}

fn take(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = raw.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// `None` for tombstones, foreign or corrupt values: the caller falls back to the database.
fn decode_entry(raw: &[u8]) -> Option<CachedPaste> {
    let rest = raw.strip_prefix(ENTRY_MAGIC)?;
    let (json, mut rest) = take(rest)?;
    let (meta, rows): (PasteMeta, Vec<FileRow>) = serde_json::from_slice(json).ok()?;
    if rows.is_empty() {
        return None;
    }
    let mut files = Vec::with_capacity(rows.len());
    for row in rows {
        let (compressed, tail) = take(rest)?;
        rest = tail;
        let text =
            crate::services::blob::codec::decompress(compressed, row.size_bytes as usize).ok()?;
        files.push((row, text));
    }
    Some(CachedPaste::new(meta, files))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::db::models::PasteRow;

    fn meta(id: &str, size: usize) -> PasteMeta {
        PasteMeta {
            row: PasteRow {
                id: id.into(),
                owner_id: None,
                title: Some("t".into()),
                language: None,
                visibility: 1,
                created_at: chrono::Utc::now(),
                expires_at: None,
                burn_after_reading: false,
                max_views: None,
                views_used: 0,
                size_bytes: size as i32,
                content_sha256: vec![1; 32],
                revision: 1,
                edited_at: None,
                forked_from: None,
                file_count: 1,
                hidden_at: None,
                encrypted: false,
            },
            author: Some("alice".into()),
        }
    }

    fn file(name: &str, size: usize) -> FileRow {
        FileRow {
            position: 0,
            name: name.into(),
            language: None,
            size_bytes: size as i32,
            content_sha256: vec![2; 32],
            object_key: None,
        }
    }

    #[test]
    fn entries_round_trip_and_tombstones_read_as_misses() {
        let body = "hello world".repeat(10);
        let other = "second file";
        let compress = |t: &str| crate::services::blob::codec::compress(t.as_bytes()).unwrap();
        let m = meta("abc", body.len() + other.len());
        let entry = CachedPaste::new(
            m.clone(),
            vec![
                (file("a.txt", body.len()), Bytes::from(body.clone())),
                (file("b.txt", other.len()), Bytes::from(other)),
            ],
        );
        let decoded =
            decode_entry(&encode_entry(&entry, &[compress(&body), compress(other)])).unwrap();
        assert_eq!(decoded.meta, m);
        assert_eq!(&decoded.files[0].content.text[..], body.as_bytes());
        assert_eq!(decoded.files[1].row.name, "b.txt");
        assert_eq!(&decoded.files[1].content.text[..], other.as_bytes());
        assert!(decode_entry(TOMBSTONE).is_none());
        assert!(decode_entry(b"P1\xff\xff\xff\xff").is_none());
    }

    #[test]
    fn a_pending_invalidation_is_never_served_and_nothing_is_without_a_recent_read() {
        let cache = PasteCache::new(Redis::disabled(), 1 << 20, Duration::from_secs(60));
        let entry = Arc::new(CachedPaste::new(
            meta("x", 1),
            vec![(file("a", 1), Bytes::from_static(b"a"))],
        ));
        cache.store_local(cache.ticket(), &entry);
        assert!(
            cache.get_local("x").is_none(),
            "the pending set was never read"
        );
        cache.set_pending(HashSet::new(), Duration::from_secs(60));
        cache.store_local(cache.ticket(), &entry);
        assert!(cache.get_local("x").is_some());
        cache.set_pending(["x".to_owned()].into(), Duration::from_secs(60));
        assert!(cache.get_local("x").is_none(), "pending");
        cache.set_pending(HashSet::new(), Duration::from_secs(60));
        cache.store_local(cache.ticket(), &entry);
        assert!(cache.get_local("x").is_some(), "delivered");
        cache.set_pending_unknown();
        assert!(
            cache.get_local("x").is_none(),
            "the pending set could not be read"
        );
    }

    #[test]
    fn a_fill_that_raced_with_an_invalidation_is_not_stored() {
        let cache = PasteCache::new(Redis::disabled(), 1 << 20, Duration::from_secs(60));
        cache.set_pending(HashSet::new(), Duration::from_secs(60));
        let entry = Arc::new(CachedPaste::new(
            meta("x", 1),
            vec![(file("a", 1), Bytes::from_static(b"a"))],
        ));
        let ticket = cache.ticket();
        cache.invalidate_local("x");
        cache.store_local(ticket, &entry);
        assert!(cache.get_local("x").is_none());
        cache.store_local(cache.ticket(), &entry);
        assert!(cache.get_local("x").is_some());
    }
}
