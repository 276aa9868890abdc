//! Which service instances are alive, told by PostgreSQL: each running instance holds a
//! session-level advisory lock on its own random instance number for as long as its process
//! lives. When the process dies (crash, kill), PostgreSQL ends its session and releases the
//! lock, so another instance — or the restarted one — can take it and knows the owner's staged
//! uploads are leftovers.

use dti_db::PgPool;
use sqlx::PgConnection;

use crate::EvidenceError;

/// First key of every evidence instance lock (`pg_advisory_lock(int, int)`): "EvId".
const INSTANCE_LOCK_SPACE: i32 = 0x4576_4964;

/// The lock proving this instance is alive, held on a connection of its own; dropping the
/// lease closes the connection, which releases the lock.
#[derive(Debug)]
pub struct InstanceLease {
    name: String,
    _connection: PgConnection,
}

impl InstanceLease {
    /// Takes a fresh random instance number and its lock on a dedicated connection.
    pub async fn acquire(pool: &PgPool) -> Result<Self, EvidenceError> {
        let mut connection = pool
            .acquire()
            .await
            .map_err(EvidenceError::database(
                "opening the instance lease connection",
            ))?
            .detach();
        loop {
            let number = rand_instance_number();
            let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                .bind(INSTANCE_LOCK_SPACE)
                .bind(number)
                .fetch_one(&mut connection)
                .await
                .map_err(EvidenceError::database("taking the instance lease"))?;
            if taken {
                return Ok(Self {
                    name: instance_name(number),
                    _connection: connection,
                });
            }
        }
    }

    /// This instance's name, the directory of its staged uploads (8 hex digits).
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Runs `cleanup` for the staged uploads of instance `name` if that instance is dead: takes its
/// lock (only possible when no live session holds it), runs `cleanup`, releases the lock.
/// Returns whether the instance was dead. Names that are not instance names are left alone.
pub async fn if_dead<F, Fut>(pool: &PgPool, name: &str, cleanup: F) -> Result<bool, EvidenceError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), EvidenceError>>,
{
    let Some(number) = parse_instance_name(name) else {
        tracing::warn!(name, "unexpected entry in the staging area; left alone");
        return Ok(false);
    };
    let mut connection = pool
        .acquire()
        .await
        .map_err(EvidenceError::database("checking an instance lease"))?;
    let dead: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
        .bind(INSTANCE_LOCK_SPACE)
        .bind(number)
        .fetch_one(&mut *connection)
        .await
        .map_err(EvidenceError::database("checking an instance lease"))?;
    if !dead {
        return Ok(false);
    }
    let cleaned = cleanup().await;
    let _unlocked: bool = sqlx::query_scalar("SELECT pg_advisory_unlock($1, $2)")
        .bind(INSTANCE_LOCK_SPACE)
        .bind(number)
        .fetch_one(&mut *connection)
        .await
        .map_err(EvidenceError::database("releasing a dead instance's lease"))?;
    cleaned.map(|()| true)
}

/// A random instance number from a fresh UUID.
fn rand_instance_number() -> i32 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// The name of instance `number`: 8 lowercase hex digits.
fn instance_name(number: i32) -> String {
    format!("{:08x}", number.cast_unsigned())
}

/// The instance number of `name`, if it is an instance name.
fn parse_instance_name(name: &str) -> Option<i32> {
    if name.len() != 8 {
        return None;
    }
    u32::from_str_radix(name, 16).ok().map(u32::cast_signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_round_trip() {
        for number in [0, 1, -1, i32::MIN, i32::MAX, 0x4576_4964] {
            let name = instance_name(number);
            assert_eq!(name.len(), 8);
            assert_eq!(parse_instance_name(&name), Some(number));
        }
        assert_eq!(parse_instance_name("lost+found"), None);
        assert_eq!(parse_instance_name("0000000g"), None);
    }
}
