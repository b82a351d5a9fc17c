//! The sandbox's state: an SQLite database with one `WFUser` table, as Bizagi keeps
//! its users.
//!
//! Durability: WAL journal, `synchronous = NORMAL`. A write is committed to the WAL
//! before the request is answered, so killing the process loses no acknowledged write
//! (a power cut could lose the last ones; a test server accepts that). Each write
//! touches one row: cost O(1) in the number of users; a page of a listing is one
//! indexed query.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, Row, named_params, params};

use super::user::UserRecord;

/// One connection writes; reads take a connection of their own from a pool (WAL lets
/// readers run beside the writer), so the sandbox serves reads concurrently.
pub struct Store {
    conn: Mutex<Connection>,
    path: std::path::PathBuf,
    readers: Mutex<Vec<Connection>>,
    /// Every `idUser`, in order, as of the last write: a listing in creation order
    /// finds where a page starts by position, and reads it from there by key, rather
    /// than skipping the rows before it (which made listing a large state quadratic).
    ids: Mutex<Option<std::sync::Arc<Vec<i64>>>>,
    /// Inserts so far: ids read before one are not kept after it.
    inserts: std::sync::atomic::AtomicU64,
}

/// A read connection, back to the pool when dropped.
struct Reader<'a> {
    store: &'a Store,
    conn: Option<Connection>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .expect("a reader holds its connection until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            lock(&self.store.readers).push(conn);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves SQLite consistent (statements are atomic).
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How a listing is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    /// Creation order (the default).
    Created,
    UserName,
    FullName,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("userName is already taken")]
    Conflict,
    #[error("the state database failed: {0}")]
    Sql(#[from] rusqlite::Error),
}

const SCHEMA: &str = "
CREATE TABLE WFUser (
    idUser           INTEGER PRIMARY KEY AUTOINCREMENT,
    guidUser         TEXT NOT NULL UNIQUE,
    userName         TEXT NOT NULL,
    domain           TEXT NOT NULL,
    nameKey          TEXT NOT NULL UNIQUE,  -- lower-case user@domain: userName is unique without regard to case
    fullName         TEXT NOT NULL,
    givenName        TEXT,
    middleName       TEXT,
    familyName       TEXT,
    contactEmail     TEXT,
    contactCellphone TEXT,
    enabled          INTEGER NOT NULL,
    userProperties   TEXT NOT NULL,         -- JSON object: built-in and custom user properties
    version          INTEGER NOT NULL,
    created          TEXT NOT NULL,
    lastModified     TEXT NOT NULL
);
CREATE INDEX WFUser_fullName ON WFUser(fullName);
";

const COLUMNS: &str = "idUser, guidUser, userName, domain, givenName, middleName, familyName, \
                       contactEmail, contactCellphone, enabled, userProperties, version, created, lastModified";

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn record(row: &Row<'_>) -> rusqlite::Result<UserRecord> {
    let properties: String = row.get(10)?;
    Ok(UserRecord {
        id_user: row.get(0)?,
        guid: row.get(1)?,
        user_name: row.get(2)?,
        domain: row.get(3)?,
        given_name: row.get(4)?,
        middle_name: row.get(5)?,
        family_name: row.get(6)?,
        email: row.get(7)?,
        phone: row.get(8)?,
        enabled: row.get(9)?,
        properties: serde_json::from_str(&properties).unwrap_or_default(),
        version: row.get(11)?,
        created: row.get(12)?,
        last_modified: row.get(13)?,
    })
}

fn conflict_or(err: rusqlite::Error) -> StoreError {
    match &err {
        rusqlite::Error::SqliteFailure(e, _)
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict
        }
        _ => StoreError::Sql(err),
    }
}

impl Store {
    /// Opens the state at `path`. A new state is created with `seed` (rows to insert,
    /// already validated), in one transaction: a half-seeded state never exists.
    pub fn open(path: &Path, seed: &[UserRecord]) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;

        if version == 0 {
            let tx = conn.transaction()?;
            tx.execute_batch(SCHEMA)?;
            for user in seed {
                insert(&tx, user)?;
            }
            tx.pragma_update(None, "user_version", 1)?;
            tx.commit()?;
        }
        // Users are addressed by GUID without regard to case: an index that compares
        // that way keeps a read or write by GUID O(log n), not a scan (states made
        // before it get it here).
        conn.execute_batch(
            "CREATE UNIQUE INDEX IF NOT EXISTS WFUser_guid_nocase ON WFUser(guidUser COLLATE NOCASE)",
        )?;
        Ok(Self {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            readers: Mutex::default(),
            ids: Mutex::default(),
            inserts: std::sync::atomic::AtomicU64::new(0),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        lock(&self.conn)
    }

    /// A read-only connection: an idle one, or a new one.
    fn reader(&self) -> Result<Reader<'_>, StoreError> {
        let idle = lock(&self.readers).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let conn = Connection::open_with_flags(
                    &self.path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                        | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn
            }
        };
        Ok(Reader {
            store: self,
            conn: Some(conn),
        })
    }

    pub fn by_guid(&self, guid: &str) -> Result<Option<UserRecord>, StoreError> {
        let conn = self.reader()?;
        let sql = format!("SELECT {COLUMNS} FROM WFUser WHERE guidUser = ?1 COLLATE NOCASE");
        Ok(conn.query_row(&sql, [guid], record).optional()?)
    }

    pub fn by_name_key(&self, key: &str) -> Result<Option<UserRecord>, StoreError> {
        let conn = self.reader()?;
        let sql = format!("SELECT {COLUMNS} FROM WFUser WHERE nameKey = ?1");
        Ok(conn.query_row(&sql, [key], record).optional()?)
    }

    /// Every `idUser` in order (kept until the next write).
    fn ids(&self, conn: &Connection) -> Result<std::sync::Arc<Vec<i64>>, StoreError> {
        if let Some(ids) = lock(&self.ids).as_ref() {
            return Ok(ids.clone());
        }
        let before = self.inserts.load(std::sync::atomic::Ordering::SeqCst);
        let mut stmt = conn.prepare("SELECT idUser FROM WFUser ORDER BY idUser")?;
        let ids: Vec<i64> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let ids = std::sync::Arc::new(ids);
        let mut cached = lock(&self.ids);
        if self.inserts.load(std::sync::atomic::Ordering::SeqCst) == before {
            *cached = Some(ids.clone());
        }
        Ok(ids)
    }

    /// One page: `offset` rows skipped, at most `limit` returned; and the total.
    pub fn list(
        &self,
        offset: u64,
        limit: u64,
        sort: SortKey,
        descending: bool,
    ) -> Result<(u64, Vec<UserRecord>), StoreError> {
        let conn = self.reader()?;
        if sort == SortKey::Created {
            // By position in the ids, then by key: each page costs its own rows.
            let ids = self.ids(&conn)?;
            let total = ids.len() as u64;
            let Some(position) = usize::try_from(offset).ok().filter(|o| *o < ids.len()) else {
                return Ok((total, Vec::new()));
            };
            let (sql, from) = if descending {
                (
                    format!(
                        "SELECT {COLUMNS} FROM WFUser WHERE idUser <= ?1 ORDER BY idUser DESC LIMIT ?2"
                    ),
                    ids[ids.len() - 1 - position],
                )
            } else {
                (
                    format!(
                        "SELECT {COLUMNS} FROM WFUser WHERE idUser >= ?1 ORDER BY idUser ASC LIMIT ?2"
                    ),
                    ids[position],
                )
            };
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt
                .query_map(params![from, clamp(limit)], record)?
                .collect::<Result<Vec<_>, _>>()?;
            return Ok((total, rows));
        }
        let total: i64 = conn.query_row("SELECT COUNT(*) FROM WFUser", [], |r| r.get(0))?;
        let column = match sort {
            SortKey::Created => "idUser",
            SortKey::UserName => "nameKey",
            SortKey::FullName => "fullName",
        };
        let order = if descending { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM WFUser ORDER BY {column} {order}, idUser {order} LIMIT ?1 OFFSET ?2"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt
            .query_map(params![clamp(limit), clamp(offset)], record)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok((u64::try_from(total).unwrap_or(0), rows))
    }

    /// Writes a consistent copy of the database to `path` (a new file).
    pub fn snapshot(&self, path: &Path) -> Result<(), StoreError> {
        let target = path.to_string_lossy();
        self.conn().execute("VACUUM INTO ?1", [target.as_ref()])?;
        Ok(())
    }

    /// Inserts a new user; returns it with its `idUser`.
    pub fn insert(&self, user: &UserRecord) -> Result<UserRecord, StoreError> {
        let conn = self.conn();
        let id = insert(&conn, user)?;
        self.inserts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        *lock(&self.ids) = None;
        Ok(UserRecord {
            id_user: id,
            ..user.clone()
        })
    }

    /// Rewrites the row of `user.id_user`.
    pub fn update(&self, user: &UserRecord) -> Result<(), StoreError> {
        let conn = self.conn();
        write_row(
            &conn,
            "UPDATE WFUser SET guidUser = :guidUser, userName = :userName, domain = :domain,
                 nameKey = :nameKey, fullName = :fullName, givenName = :givenName,
                 middleName = :middleName, familyName = :familyName,
                 contactEmail = :contactEmail, contactCellphone = :contactCellphone,
                 enabled = :enabled, userProperties = :userProperties, version = :version,
                 created = :created, lastModified = :lastModified
             WHERE idUser = :idUser",
            user,
        )
    }
}

fn insert(conn: &Connection, user: &UserRecord) -> Result<i64, StoreError> {
    // NULLIF: a new user (id 0) gets the next idUser.
    write_row(
        conn,
        "INSERT INTO WFUser (idUser, guidUser, userName, domain, nameKey, fullName, givenName,
             middleName, familyName, contactEmail, contactCellphone, enabled, userProperties,
             version, created, lastModified)
         VALUES (NULLIF(:idUser, 0), :guidUser, :userName, :domain, :nameKey, :fullName,
             :givenName, :middleName, :familyName, :contactEmail, :contactCellphone, :enabled,
             :userProperties, :version, :created, :lastModified)",
        user,
    )?;
    Ok(conn.last_insert_rowid())
}

/// Runs `sql` with every column of `user` bound by name.
fn write_row(conn: &Connection, sql: &str, user: &UserRecord) -> Result<(), StoreError> {
    let properties = serde_json::to_string(&user.properties).unwrap_or_default();
    let (name_key, full_name) = (user.name_key(), user.full_name());
    conn.execute(
        sql,
        named_params! {
            ":idUser": user.id_user,
            ":guidUser": user.guid,
            ":userName": user.user_name,
            ":domain": user.domain,
            ":nameKey": name_key,
            ":fullName": full_name,
            ":givenName": user.given_name,
            ":middleName": user.middle_name,
            ":familyName": user.family_name,
            ":contactEmail": user.email,
            ":contactCellphone": user.phone,
            ":enabled": user.enabled,
            ":userProperties": properties,
            ":version": user.version,
            ":created": user.created,
            ":lastModified": user.last_modified,
        },
    )
    .map_err(conflict_or)?;
    Ok(())
}
