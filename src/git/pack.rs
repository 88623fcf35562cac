//! New blobs written the way git moves objects in bulk: one pack file (git's pack format,
//! version 2), indexed by libgit2's pack writer — instead of one loose file per blob, each with
//! an existence check, a directory, a temporary file and a rename. A grant over thousands of
//! secrets then costs its cryptography, not thousands of file-system round trips.

use std::io::Write;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use git2::{ObjectType, Oid, Repository};
use sha1::{Digest, Sha1};

use crate::Result;
use crate::error::{GitContext, IoContext};

/// Git's pack object type of a blob.
const OBJ_BLOB: u8 = 3;

/// Writes `blobs` into the repository as one pack; returns their ids, in order.
pub fn write_blobs(repo: &Repository, blobs: &[&[u8]]) -> Result<Vec<Oid>> {
    let mut ids = Vec::with_capacity(blobs.len());
    let mut pack = Vec::with_capacity(blobs.iter().map(|b| b.len() + 16).sum::<usize>() + 32);
    pack.extend_from_slice(b"PACK");
    pack.extend_from_slice(&2u32.to_be_bytes());
    pack.extend_from_slice(&u32::try_from(blobs.len()).unwrap_or(u32::MAX).to_be_bytes());
    for blob in blobs {
        ids.push(Oid::hash_object(ObjectType::Blob, blob).git_context("hashing a blob")?);
        object_header(&mut pack, OBJ_BLOB, blob.len());
        let mut zlib = ZlibEncoder::new(&mut pack, Compression::fast());
        zlib.write_all(blob)
            .and_then(|_| zlib.finish().map(|_| ()))
            .io_context(|| "cannot compress a blob for the pack".into())?;
    }
    let trailer = Sha1::digest(&pack);
    pack.extend_from_slice(&trailer);
    let odb = repo.odb().git_context("opening the object database")?;
    let mut writer = odb.packwriter().git_context("writing the pack")?;
    writer
        .write_all(&pack)
        .io_context(|| "cannot write the pack".into())?;
    writer.commit().git_context("writing the pack")?;
    Ok(ids)
}

/// An object's header in a pack: type and size, the size in little-endian groups of 7 bits
/// after the first 4.
fn object_header(out: &mut Vec<u8>, kind: u8, size: usize) {
    let mut size = size as u64;
    let mut byte = (kind << 4) | (size & 0x0f) as u8;
    size >>= 4;
    while size > 0 {
        out.push(byte | 0x80);
        byte = (size & 0x7f) as u8;
        size >>= 7;
    }
    out.push(byte);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pack_of_blobs_is_read_back_by_libgit2_and_git() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let big = vec![7u8; 100_000];
        let blobs: Vec<&[u8]> = vec![b"", b"one", &big, b"\x00\xff binary"];
        let ids = write_blobs(&repo, &blobs).unwrap();
        for (id, bytes) in ids.iter().zip(&blobs) {
            assert_eq!(repo.find_blob(*id).unwrap().content(), *bytes);
        }
        let fsck = std::process::Command::new("git")
            .args(["fsck", "--strict"])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            fsck.status.success(),
            "{}",
            String::from_utf8_lossy(&fsck.stderr)
        );
        let loose = std::fs::read_dir(dir.path().join(".git/objects"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().len() == 2)
            .count();
        assert_eq!(loose, 0);
    }

    #[test]
    fn sizes_are_encoded_as_git_does() {
        let mut out = Vec::new();
        object_header(&mut out, OBJ_BLOB, 15);
        assert_eq!(out, [0x3f]);
        out.clear();
        object_header(&mut out, OBJ_BLOB, 16);
        assert_eq!(out, [0xb0, 0x01]);
        out.clear();
        object_header(&mut out, OBJ_BLOB, 100_000);
        assert_eq!(out, [0xb0, 0xea, 0x30]);
    }
}
