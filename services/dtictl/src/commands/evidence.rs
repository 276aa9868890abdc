//! `dtictl evidence upload|list|download|remove`: a unit's evidence documents on the evidence
//! service, as the unit's submitter (a download may also be read as a verifier).
//!
//! An upload streams the file in chunks while hashing it, with a progress bar; if the file
//! cannot be read to its end the call is cancelled, so the service keeps nothing of it, and the
//! digest the service reports is checked against the file's. A download is written to a
//! temporary file next to the output, checked against the size and SHA-256 the service
//! reports, and only then renamed onto the output.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use dti_domain::FrameworkCatalog;
use dti_proto::dti::evidence::v1::evidence_service_client::EvidenceServiceClient;
use dti_proto::dti::evidence::v1::{
    download_evidence_response, upload_evidence_request, DownloadEvidenceRequest, Evidence,
    GetEvidenceRequest, ListEvidenceRequest, ListEvidenceResponse, RemoveEvidenceRequest,
    UploadEvidenceRequest, UploadEvidenceResponse, UploadHeader,
};
use sha2::{Digest, Sha256};
use tonic::transport::Channel;

use super::unit_common::{progress, scored_indicator, Names, Target, UnitRound};
use crate::remote::{call, table, unit_submitter, verifier, when, Output, Remote, Service};
use crate::runtime;
use crate::{tr, Failure};

/// Bytes per upload message.
const CHUNK: usize = 64 * 1024;

/// `dtictl evidence …`.
#[derive(Debug, clap::Subcommand)]
pub enum EvidenceCommand {
    /// Upload a document for an indicator of the unit's self-assessment.
    Upload {
        /// The unit and round.
        #[command(flatten)]
        target: UnitRound,
        /// Indicator code the document supports, e.g. 1.2.
        #[arg(long)]
        indicator: String,
        /// The document.
        #[arg(long)]
        file: PathBuf,
        /// Content type to declare (the service judges the bytes anyway).
        #[arg(long)]
        content_type: Option<String>,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// List the unit's documents, oldest first.
    List {
        /// The unit and round.
        #[command(flatten)]
        target: UnitRound,
        /// Only this indicator's documents.
        #[arg(long)]
        indicator: Option<String>,
        /// Also list removed documents.
        #[arg(long)]
        include_removed: bool,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// Download a document to a file (written whole, or not at all).
    Download {
        /// Evidence id.
        #[arg(long)]
        id: String,
        /// Where to write it.
        #[arg(long)]
        output: PathBuf,
        /// Read as this unit's submitter (default: as a verifier).
        #[arg(long)]
        unit: Option<String>,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
    /// Remove a document while the unit's submission is a draft; the record is kept.
    Remove {
        /// Evidence id.
        #[arg(long)]
        id: String,
        /// Why it is removed.
        #[arg(long)]
        reason: String,
        /// The document's unit (default: read from the document).
        #[arg(long)]
        unit: Option<String>,
        /// How to reach the services.
        #[command(flatten)]
        connection: Remote,
    },
}

/// Runs a `dtictl evidence` command.
pub fn run(
    catalog: &FrameworkCatalog,
    command: &EvidenceCommand,
    output: Output,
) -> Result<(), Failure> {
    match command {
        EvidenceCommand::Upload {
            target,
            indicator,
            file,
            content_type,
            connection,
        } => {
            let target = target.resolve(catalog)?;
            let mut problems = check_indicator(&target, "--indicator", Some(indicator));
            let size = match std::fs::metadata(file) {
                Ok(meta) if meta.is_file() && meta.len() > 0 => meta.len(),
                Ok(_) => {
                    problems.push(tr!("dtictl-file-empty", path = file.display().to_string()));
                    0
                }
                Err(error) => {
                    problems.push(tr!(
                        "dtictl-file-unreadable",
                        path = file.display().to_string(),
                        error = error.to_string()
                    ));
                    0
                }
            };
            fail_on(problems)?;
            let header = UploadHeader {
                round: Some(target.round.clone()),
                unit: Some(target.unit_ref()),
                indicator_code: indicator.clone(),
                file_name: file
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                declared_content_type: content_type.clone().unwrap_or_default(),
            };
            runtime()?.block_on(async {
                let mut client = client(connection).await?;
                let response = upload(&mut client, connection, &target, header, file, size).await?;
                output.emit(&response, |r| {
                    let evidence = r.evidence.clone().unwrap_or_default();
                    let uploaded = if r.already_attached {
                        tr!(
                            "dtictl-evidence-already-attached",
                            file = &evidence.file_name,
                            id = &evidence.evidence_id,
                            indicator = &evidence.indicator_code
                        )
                    } else {
                        tr!(
                            "dtictl-evidence-uploaded",
                            file = &evidence.file_name,
                            id = &evidence.evidence_id,
                            indicator = &evidence.indicator_code
                        )
                    };
                    format!(
                        "{}: {uploaded} ({})",
                        target.describe(),
                        tr!(
                            "dtictl-evidence-facts",
                            kind = &evidence.content_type,
                            bytes = evidence.size_bytes,
                            sha256 = &evidence.sha256
                        )
                    )
                })
            })
        }
        EvidenceCommand::List {
            target,
            indicator,
            include_removed,
            connection,
        } => {
            let target = target.resolve(catalog)?;
            fail_on(check_indicator(
                &target,
                "--indicator",
                indicator.as_deref(),
            ))?;
            let request = ListEvidenceRequest {
                round: Some(target.round.clone()),
                unit: Some(target.unit_ref()),
                indicator_code: indicator.clone().unwrap_or_default(),
                include_removed: *include_removed,
            };
            runtime()?.block_on(async {
                let mut client = client(connection).await?;
                let principal = unit_submitter(target.unit.as_str());
                let listed = call(
                    &tr!("dtictl-what-unit", unit = target.unit.as_str()),
                    client.list_evidence(connection.request(request, &principal)?),
                )
                .await?;
                output.emit(&listed, |l| describe_list(&target, l))
            })
        }
        EvidenceCommand::Download {
            id,
            output: path,
            unit,
            connection,
        } => {
            let mut problems = check_id(id);
            problems.extend(check_unit(unit.as_deref()));
            problems.extend(check_output(path));
            fail_on(problems)?;
            let principal = match unit {
                Some(unit) => unit_submitter(unit),
                None => verifier(),
            };
            runtime()?.block_on(async {
                let mut client = client(connection).await?;
                let request = connection.request(
                    DownloadEvidenceRequest {
                        evidence_id: id.clone(),
                    },
                    &principal,
                )?;
                let evidence = download(&mut client, request, path).await?;
                output.emit(&evidence, |e| {
                    tr!(
                        "dtictl-evidence-written",
                        id = &e.evidence_id,
                        facts = format!(
                            "{}, {}",
                            e.file_name,
                            tr!(
                                "dtictl-evidence-facts",
                                kind = &e.content_type,
                                bytes = e.size_bytes,
                                sha256 = &e.sha256
                            )
                        ),
                        path = path.display().to_string()
                    )
                })
            })
        }
        EvidenceCommand::Remove {
            id,
            reason,
            unit,
            connection,
        } => {
            let mut problems = check_id(id);
            problems.extend(check_unit(unit.as_deref()));
            if reason.trim().is_empty() {
                problems.push(tr!("dtictl-evidence-remove-reason"));
            }
            fail_on(problems)?;
            runtime()?.block_on(async {
                let mut client = client(connection).await?;
                let owner = match unit {
                    Some(unit) => unit.clone(),
                    None => owner_of(&mut client, connection, id).await?,
                };
                let request = RemoveEvidenceRequest {
                    evidence_id: id.clone(),
                    reason: reason.clone(),
                };
                let removed = call(
                    &tr!("dtictl-what-evidence", id = id),
                    client.remove_evidence(connection.request(request, &unit_submitter(&owner))?),
                )
                .await?;
                output.emit(&removed, |e| {
                    tr!(
                        "dtictl-evidence-removed",
                        id = &e.evidence_id,
                        file = &e.file_name,
                        unit = &owner,
                        reason = reason
                    )
                })
            })
        }
    }
}

/// Nothing to do when there are no problems; otherwise every one (exit 2).
fn fail_on(problems: Vec<String>) -> Result<(), Failure> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Failure::InvalidInput(problems))
    }
}

async fn client(connection: &Remote) -> Result<EvidenceServiceClient<Channel>, Failure> {
    Ok(EvidenceServiceClient::new(
        connection.channel(Service::Evidence).await?,
    ))
}

/// `code`, when given, is a scored indicator of the round's framework.
fn check_indicator(target: &Target, flag: &str, code: Option<&str>) -> Vec<String> {
    match code {
        Some(code) if scored_indicator(target.framework(), code).is_none() => {
            let problem = tr!(
                "dtictl-draft-not-scored",
                unit = target.unit.as_str(),
                indicator = code,
                framework = target.framework().id.to_string()
            );
            vec![problem.replacen("--indicator", flag, 1)]
        }
        _ => Vec::new(),
    }
}

/// An evidence id is a UUID (`8-4-4-4-12` hexadecimal digits).
fn check_id(id: &str) -> Vec<String> {
    let groups: Vec<&str> = id.split('-').collect();
    let shaped = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
    if shaped {
        Vec::new()
    } else {
        vec![tr!("dtictl-evidence-id", id = id)]
    }
}

fn check_unit(unit: Option<&str>) -> Vec<String> {
    unit.and_then(|unit| dti_domain::UnitId::parse(unit).err())
        .map(|error| vec![format!("--unit: {error}")])
        .unwrap_or_default()
}

/// The output's directory exists and the output is not a directory.
fn check_output(path: &Path) -> Vec<String> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if path.is_dir() {
        vec![tr!(
            "dtictl-output-is-directory",
            path = path.display().to_string()
        )]
    } else if !parent.is_dir() {
        vec![tr!(
            "dtictl-output-no-directory",
            path = path.display().to_string(),
            directory = parent.display().to_string()
        )]
    } else {
        Vec::new()
    }
}

/// The unit a document belongs to, read as a verifier (or as the given token's holder).
async fn owner_of(
    client: &mut EvidenceServiceClient<Channel>,
    connection: &Remote,
    id: &str,
) -> Result<String, Failure> {
    let request = GetEvidenceRequest {
        evidence_id: id.to_owned(),
    };
    let evidence = call(
        &tr!("dtictl-what-evidence", id = id),
        client.get_evidence(connection.request(request, &verifier())?),
    )
    .await?;
    Ok(evidence.unit.map(|u| u.unit_id).unwrap_or_default())
}

/// Streams `header` and then `file` in chunks, hashing it; checks the reported digest.
async fn upload(
    client: &mut EvidenceServiceClient<Channel>,
    connection: &Remote,
    target: &Target,
    header: UploadHeader,
    file: &Path,
    size: u64,
) -> Result<UploadEvidenceResponse, Failure> {
    let (sender, receiver) = tokio::sync::mpsc::channel::<UploadEvidenceRequest>(4);
    let bar = progress(size, &tr!("dtictl-progress-uploading"), true);
    let path = file.to_path_buf();
    let reader_bar = bar.clone();
    let reader =
        tokio::task::spawn_blocking(move || read_into(&path, header, &sender, &reader_bar));
    let principal = unit_submitter(target.unit.as_str());
    let stream = tokio_stream::wrappers::ReceiverStream::new(receiver);
    let request = connection.request(stream, &principal)?;
    let what = tr!("dtictl-what-unit", unit = target.unit.as_str());
    let mut uploading = Box::pin(call(&what, client.upload_evidence(request)));
    let mut reader = Box::pin(reader);
    let (response, read) = tokio::select! {
        response = &mut uploading => (response, (&mut reader).await),
        read = &mut reader => match read {
            Ok(Err(error)) => {
                // The stream was spoiled (a message without a part) so the service refuses the
                // upload rather than keep a truncated document; stop waiting for its answer.
                drop(uploading);
                bar.abandon();
                return Err(Failure::InvalidInput(vec![tr!(
                    "dtictl-file-unreadable",
                    path = file.display().to_string(),
                    error = error.to_string()
                )]));
            }
            read => (uploading.await, read),
        },
    };
    bar.finish_and_clear();
    let response = response?;
    let digest = match read {
        Ok(Ok(digest)) => digest,
        Ok(Err(error)) => {
            return Err(Failure::Unexpected(anyhow::anyhow!(tr!(
                "dtictl-file-unreadable",
                path = file.display().to_string(),
                error = error.to_string()
            ))))
        }
        Err(error) => return Err(Failure::Unexpected(error.into())),
    };
    let reported = response
        .evidence
        .as_ref()
        .map(|e| e.sha256.clone())
        .unwrap_or_default();
    if !reported.is_empty() && !digest.is_empty() && reported != digest {
        return Err(Failure::Unexpected(anyhow::anyhow!(tr!(
            "dtictl-upload-digest",
            reported = &reported,
            path = file.display().to_string(),
            digest = &digest
        ))));
    }
    Ok(response)
}

/// Sends `header` and then `path`'s bytes in chunks into the upload stream; the file's
/// SHA-256 (empty when the call ended before the file did). When the file cannot be read to
/// its end, a message without a part spoils the stream, so the service refuses it.
fn read_into(
    path: &Path,
    header: UploadHeader,
    sender: &tokio::sync::mpsc::Sender<UploadEvidenceRequest>,
    bar: &indicatif::ProgressBar,
) -> std::io::Result<String> {
    let first = UploadEvidenceRequest {
        part: Some(upload_evidence_request::Part::Header(header)),
    };
    if sender.blocking_send(first).is_err() {
        return Ok(String::new());
    }
    let spoil = |error: std::io::Error| {
        let _ = sender.blocking_send(UploadEvidenceRequest { part: None });
        error
    };
    let mut opened = std::fs::File::open(path).map_err(spoil)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0_u8; CHUNK];
    loop {
        let read = match opened.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(spoil(error)),
        };
        hasher.update(&buffer[..read]);
        let chunk = UploadEvidenceRequest {
            part: Some(upload_evidence_request::Part::Chunk(
                buffer[..read].to_vec(),
            )),
        };
        if sender.blocking_send(chunk).is_err() {
            return Ok(String::new()); // The call ended; its answer says why.
        }
        bar.inc(read as u64);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Streams a document into a temporary file next to `path`, checks its size and digest
/// against the metadata, and renames it onto `path`; nothing is left behind on failure.
async fn download(
    client: &mut EvidenceServiceClient<Channel>,
    request: tonic::Request<DownloadEvidenceRequest>,
    path: &Path,
) -> Result<Evidence, Failure> {
    let id = request.get_ref().evidence_id.clone();
    let what = tr!("dtictl-what-evidence", id = &id);
    let mut stream = call(&what, client.download_evidence(request)).await?;
    let first = stream
        .message()
        .await
        .map_err(|status| crate::remote::refused(&what, status))?;
    let Some(download_evidence_response::Part::Evidence(evidence)) = first.and_then(|m| m.part)
    else {
        return Err(Failure::Unexpected(anyhow::anyhow!(tr!(
            "dtictl-download-no-metadata",
            what = &what
        ))));
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.dtictl-{}.part", std::process::id()));
    let written = receive(&mut stream, &what, &evidence, &temporary).await;
    let renamed = written.and_then(|()| {
        std::fs::rename(&temporary, path).map_err(|error| {
            Failure::Unexpected(anyhow::anyhow!(tr!(
                "dtictl-download-move",
                path = path.display().to_string(),
                error = error.to_string()
            )))
        })
    });
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    renamed.map(|()| evidence)
}

/// Writes the content messages of `stream` to `temporary` and checks them against `evidence`.
async fn receive(
    stream: &mut tonic::Streaming<dti_proto::dti::evidence::v1::DownloadEvidenceResponse>,
    what: &str,
    evidence: &Evidence,
    temporary: &Path,
) -> Result<(), Failure> {
    let io = |error: std::io::Error| {
        Failure::Unexpected(anyhow::anyhow!(tr!(
            "dtictl-download-write",
            path = temporary.display().to_string(),
            error = error.to_string()
        )))
    };
    let mut out = std::fs::File::create(temporary).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut size = 0_u64;
    let bar = progress(
        evidence.size_bytes,
        &tr!("dtictl-progress-downloading"),
        true,
    );
    while let Some(message) = stream
        .message()
        .await
        .map_err(|status| crate::remote::refused(what, status))?
    {
        if let Some(download_evidence_response::Part::Chunk(bytes)) = message.part {
            hasher.update(&bytes);
            out.write_all(&bytes).map_err(io)?;
            size += bytes.len() as u64;
            bar.inc(bytes.len() as u64);
        }
    }
    bar.finish_and_clear();
    out.sync_all().map_err(io)?;
    let digest = hex::encode(hasher.finalize());
    if size != evidence.size_bytes || (!evidence.sha256.is_empty() && digest != evidence.sha256) {
        return Err(Failure::Unexpected(anyhow::anyhow!(tr!(
            "dtictl-download-digest",
            what = what,
            size = size,
            digest = &digest,
            reported_size = evidence.size_bytes,
            reported = &evidence.sha256
        ))));
    }
    Ok(())
}

/// The unit's documents as a table.
fn describe_list(target: &Target, listed: &ListEvidenceResponse) -> String {
    let names: &Names = &target.names;
    let rows = listed.evidence.iter().map(|e| {
        [
            e.evidence_id.clone(),
            e.indicator_code.clone(),
            names.indicator_in_table(&e.indicator_code),
            e.file_name.clone(),
            e.content_type.clone(),
            e.size_bytes.to_string(),
            when(e.uploaded_at.as_ref()),
            e.removal.as_ref().map_or_else(String::new, |r| {
                tr!(
                    "dtictl-evidence-removed-at",
                    at = when(r.removed_at.as_ref()),
                    reason = &r.reason
                )
            }),
        ]
    });
    format!(
        "{}\n{}",
        tr!(
            "dtictl-evidence-list-head",
            unit = target.describe(),
            documents = listed.evidence.len()
        ),
        table(
            [
                tr!("dtictl-col-id"),
                tr!("dtictl-col-indicator"),
                tr!("dtictl-col-name"),
                tr!("dtictl-col-file"),
                tr!("dtictl-col-type"),
                tr!("dtictl-col-bytes"),
                tr!("dtictl-col-uploaded-at"),
                tr!("dtictl-col-removed"),
            ],
            rows
        )
    )
}
