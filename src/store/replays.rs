//! Stored webhook answers, packed: zstd against a dictionary of the scripts' own words.
//!
//! A step's answer (~850 bytes of TwiML or jambonz JSON) is mostly text the scripts and the
//! dialect's skeleton hold already. Compressed against a dictionary made of them (see
//! `calls::replays`) it keeps about a twentieth of that. Each dictionary is stored once,
//! under the first eight bytes of its SHA-256, and each answer names the one it was packed with,
//! so an answer packed before the scripts changed unpacks byte for byte after the change.

use std::io::Read;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Store, StoreError, StoreResult, WriteTx};
use crate::clock::Timestamp;

/// zstd's level for answers: its default, a fraction of a millisecond for an answer.
const LEVEL: i32 = 3;

/// The dictionary answers are packed with now.
#[derive(Clone)]
pub struct AnswerDictionary {
    pub id: i64,
    bytes: Arc<[u8]>,
    /// A compression context with the dictionary loaded once (a context per answer would index
    /// the dictionary each time); steps take turns on it for the few microseconds packing takes.
    packer: Arc<Mutex<zstd::bulk::Compressor<'static>>>,
}

impl std::fmt::Debug for AnswerDictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerDictionary").field("id", &self.id).field("bytes", &self.bytes.len()).finish()
    }
}

impl AnswerDictionary {
    /// Kept in memory only; [`Store::keep_answer_dictionary`] stores it.
    pub fn new(bytes: Vec<u8>) -> Self {
        let digest = Sha256::digest(&bytes);
        let id = i64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 digest has 32 bytes"));
        // Any bytes make a raw-content dictionary; only memory can fail here.
        let packer =
            zstd::bulk::Compressor::with_dictionary(LEVEL, &bytes).expect("zstd takes any bytes as a dictionary");
        Self { id, bytes: bytes.into(), packer: Arc::new(Mutex::new(packer)) }
    }

    pub fn pack(&self, answer: &str) -> Vec<u8> {
        let mut packer = self.packer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Compressing into a growable buffer fails only on an out-of-memory allocation.
        packer.compress(answer.as_bytes()).expect("zstd compresses any bytes")
    }
}

/// An answer as stored: packed against dictionary `dictionary`, or (`None`, kept from before
/// answers were packed) the document itself.
pub(super) fn unpack(packed: &[u8], dictionary: Option<&[u8]>) -> StoreResult<String> {
    let bytes = match dictionary {
        Some(dictionary) => {
            let mut bytes = Vec::new();
            zstd::stream::read::Decoder::with_dictionary(packed, dictionary)
                .and_then(|mut decoder| decoder.read_to_end(&mut bytes))
                .map_err(|e| StoreError::Invalid(format!("a stored answer does not unpack: {e}")))?;
            bytes
        }
        None => packed.to_vec(),
    };
    String::from_utf8(bytes).map_err(|e| StoreError::Invalid(format!("a stored answer is not UTF-8: {e}")))
}

/// Step `$2` of call `$1`: its input, its packed answer and the dictionary that needs, for [`unpack_row`].
pub(super) const ANSWER_OF_STEP: &str = "SELECT s.input, s.answer, d.body AS dictionary_body FROM call_steps s \
     LEFT JOIN answer_dictionaries d ON d.id = s.dictionary WHERE s.call_id = $1 AND s.seq = $2";

/// A stored answer's row: its packed bytes and the dictionary they need (`None`: plain).
pub(super) fn unpack_row(row: &sqlx::any::AnyRow) -> StoreResult<String> {
    let packed: Vec<u8> = row.try_get("answer")?;
    let dictionary: Option<Vec<u8>> = row.try_get("dictionary_body")?;
    unpack(&packed, dictionary.as_deref())
}

impl Store {
    /// Stores `dictionary` unless it is there already (an instance restarted on unchanged
    /// scripts, or a second instance, finds its own).
    pub async fn keep_answer_dictionary(&self, dictionary: &AnswerDictionary, now: Timestamp) -> StoreResult<()> {
        let known: Option<i64> = sqlx::query_scalar("SELECT id FROM answer_dictionaries WHERE id = $1")
            .bind(dictionary.id)
            .fetch_optional(&self.pool)
            .await?;
        if known.is_some() {
            return Ok(());
        }
        let (id, bytes) = (dictionary.id, dictionary.bytes.to_vec());
        self.write_with((id, bytes), move |tx, (id, bytes)| {
            Box::pin(async move {
                sqlx::query(
                    "INSERT INTO answer_dictionaries (id, body, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(*id)
                .bind(bytes.as_slice())
                .bind(now.millis())
                .execute(&mut *tx)
                .await?;
                Ok(())
            })
        })
        .await
    }
}

/// Stored answers looked through at a time by [`Store::stored_answers_containing`].
const SCAN_BATCH: i64 = 1000;

impl Store {
    /// The steps whose stored answer holds `needle`. Packed answers cannot be searched by the
    /// database, so each is unpacked here, a batch at a time; they are kept only for
    /// HOTLINE_RETAIN_REPLAYS (a day by default), so this reads a day's calls at most.
    pub async fn stored_answers_containing(&self, needle: &str) -> StoreResult<Vec<(String, i64)>> {
        let mut found = Vec::new();
        let (mut after_call, mut after_seq) = (String::new(), -1_i64);
        loop {
            let rows = sqlx::query(
                "SELECT s.call_id, s.seq, s.answer, d.body AS dictionary_body FROM call_steps s \
                 LEFT JOIN answer_dictionaries d ON d.id = s.dictionary \
                 WHERE s.call_id > $1 OR (s.call_id = $1 AND s.seq > $2) ORDER BY s.call_id, s.seq LIMIT $3",
            )
            .bind(&after_call)
            .bind(after_seq)
            .bind(SCAN_BATCH)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last() else { return Ok(found) };
            (after_call, after_seq) = (last.try_get("call_id")?, last.try_get("seq")?);
            for row in &rows {
                if unpack_row(row)?.contains(needle) {
                    found.push((row.try_get("call_id")?, row.try_get("seq")?));
                }
            }
        }
    }
}

/// Rewrites one step's stored answer and input with what `change` makes of each (`None`:
/// unchanged), the answer packed again against the same dictionary; true when either changed.
pub(super) async fn mask_step(
    tx: &mut WriteTx,
    call_id: &str,
    seq: i64,
    change: impl Fn(&str) -> Option<String>,
) -> StoreResult<bool> {
    let row = sqlx::query(ANSWER_OF_STEP).bind(call_id).bind(seq).fetch_optional(&mut *tx).await?;
    let Some(row) = row else { return Ok(false) };
    let input: Option<String> = row.try_get("input")?;
    let new_input = input.as_deref().and_then(&change);
    let new_answer =
        change(&unpack_row(&row)?).map(|answer| match row.try_get::<Option<Vec<u8>>, _>("dictionary_body") {
            Ok(Some(bytes)) => AnswerDictionary::new(bytes).pack(&answer),
            _ => answer.into_bytes(),
        });
    if new_input.is_none() && new_answer.is_none() {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE call_steps SET input = COALESCE($1, input), answer = COALESCE($2, answer) \
         WHERE call_id = $3 AND seq = $4",
    )
    .bind(new_input)
    .bind(new_answer)
    .bind(call_id)
    .bind(seq)
    .execute(&mut *tx)
    .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_unpacks_to_the_same_bytes_and_packs_small_with_its_words_in_the_dictionary() {
        let dictionary = AnswerDictionary::new(
            "<Response><Gather input=\"dtmf\"><Say language=\"ru-RU\">Если нет света, нажмите 1.</Say></Gather></Response>"
                .as_bytes()
                .to_vec(),
        );
        let answer = "<Response><Gather input=\"dtmf\"><Say language=\"ru-RU\">Если нет света, нажмите 2.</Say></Gather></Response>";
        let packed = dictionary.pack(answer);
        assert!(packed.len() * 4 < answer.len(), "{} bytes packed from {}", packed.len(), answer.len());
        assert_eq!(unpack(&packed, Some(&dictionary.bytes)).unwrap(), answer);
        assert_eq!(unpack(answer.as_bytes(), None).unwrap(), answer);
    }

    #[test]
    fn a_dictionary_is_named_by_its_bytes() {
        let a = AnswerDictionary::new(b"one".to_vec());
        assert_eq!(a.id, AnswerDictionary::new(b"one".to_vec()).id);
        assert_ne!(a.id, AnswerDictionary::new(b"two".to_vec()).id);
    }
}
