//! The app's one long-lived container: found, reused or (re)created, adopted, swept, removed.

use std::collections::HashMap;
use std::time::Duration;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use bollard::query_parameters::{
    CreateContainerOptions, DownloadFromContainerOptions, ListContainersOptions,
    RemoveContainerOptions, UploadToContainerOptions,
};
use futures_util::StreamExt as _;

use super::error::{DockerError, is_not_found};
use super::owner::{
    ContainerOwner, LABEL_APP, LABEL_FINGERPRINT, LABEL_IMAGE_ID, LABEL_MANAGED, OWNER_FILE,
};
use super::spec::{DockerSpec, fingerprint};
use super::{oneshot, scripts};

/// How long a helper exec may take beyond its own grace.
const HELPER_SLACK: Duration = Duration::from_secs(10);

/// The container prepared for an app.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// Its id.
    pub(crate) id: String,
    /// Whether an existing container was reused (rather than created).
    pub(crate) reused: bool,
    /// Processes of an earlier tend's runs that the sweep of a reused container ended.
    pub(crate) swept: usize,
}

/// Makes sure the app's container runs with `spec`'s definition and belongs to `spec.owner`:
/// an existing one with the same fingerprint and image is reused (its leftover processes
/// ended first, within `grace`), a different one is replaced, a missing one is created.
///
/// # Errors
/// [`DockerError::ImageMissing`], [`DockerError::ImageUnfit`], [`DockerError::OwnedByOther`],
/// [`DockerError::Api`].
pub(crate) async fn ensure(
    docker: &Docker,
    spec: &DockerSpec,
    grace: Duration,
) -> Result<Prepared, DockerError> {
    let image_id = match docker.inspect_image(&spec.image).await {
        Ok(image) => image.id.unwrap_or_default(),
        Err(e) if is_not_found(&e) => {
            return Err(DockerError::ImageMissing { image: spec.image.clone() });
        }
        Err(e) => return Err(DockerError::api(format!("inspecting image {}", spec.image), e)),
    };
    let name = spec.container_name();
    let fp = fingerprint(spec);
    match docker.inspect_container(&name, None).await {
        Ok(existing) => {
            let id = existing.id.clone().unwrap_or_else(|| name.clone());
            let labels =
                existing.config.as_ref().and_then(|c| c.labels.clone()).unwrap_or_default();
            let owner = current_owner(docker, &id, &labels).await;
            if let Some(owner) = &owner
                && *owner != spec.owner
                && owner.is_alive()
            {
                return Err(DockerError::OwnedByOther { container: name, pid: owner.pid });
            }
            let same = labels.get(LABEL_FINGERPRINT) == Some(&fp)
                && labels.get(LABEL_IMAGE_ID) == Some(&image_id);
            if same {
                let running = existing.state.and_then(|s| s.running).unwrap_or(false);
                if !running {
                    docker
                        .start_container(&id, None)
                        .await
                        .map_err(|e| DockerError::api(format!("starting container {name}"), e))?;
                }
                write_owner(docker, &id, &spec.owner).await?;
                let swept = sweep(docker, &id, spec.user.as_deref(), grace).await?;
                tracing::info!(container = %name, swept, "reusing the app's container");
                return Ok(Prepared { id, reused: true, swept });
            }
            tracing::info!(container = %name, "the app's container changed: recreating it");
            remove(docker, &id).await?;
        }
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(DockerError::api(format!("inspecting container {name}"), e)),
    }
    let id = create(docker, spec, &name, &fp, &image_id).await?;
    Ok(Prepared { id, reused: false, swept: 0 })
}

async fn create(
    docker: &Docker,
    spec: &DockerSpec,
    name: &str,
    fp: &str,
    image_id: &str,
) -> Result<String, DockerError> {
    let mut labels: HashMap<String, String> = HashMap::from([
        (LABEL_MANAGED.to_string(), "1".to_string()),
        (LABEL_APP.to_string(), spec.app.clone()),
        (LABEL_FINGERPRINT.to_string(), fp.to_string()),
        (LABEL_IMAGE_ID.to_string(), image_id.to_string()),
    ]);
    labels.extend(spec.owner.labels());
    let mounts = spec
        .mounts
        .iter()
        .map(|m| Mount {
            source: Some(m.source.to_string_lossy().into_owned()),
            target: Some(m.target.clone()),
            typ: Some(MountType::BIND),
            read_only: Some(m.read_only),
            ..Default::default()
        })
        .collect();
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        entrypoint: Some(scripts::keepalive()),
        cmd: Some(Vec::new()),
        labels: Some(labels),
        user: spec.user.clone(),
        open_stdin: Some(true),
        host_config: Some(HostConfig {
            init: Some(spec.init),
            network_mode: Some(spec.network.clone()),
            mounts: Some(mounts),
            ..Default::default()
        }),
        ..Default::default()
    };
    let options = CreateContainerOptions { name: Some(name.to_string()), ..Default::default() };
    let created = docker
        .create_container(Some(options), body)
        .await
        .map_err(|e| DockerError::api(format!("creating container {name}"), e))?;
    let id = created.id;
    let unfit = |missing: String| DockerError::ImageUnfit { image: spec.image.clone(), missing };
    // Before it starts: the entrypoint and every run need /bin/sh.
    let checked = match docker.get_container_archive_info(&id, Some(archive_path("/bin/sh"))).await
    {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Err(unfit("no /bin/sh".into())),
        Err(e) => Err(DockerError::api("looking for /bin/sh in the image", e)),
    };
    let started = match checked {
        Ok(()) => write_owner(docker, &id, &spec.owner).await.and(
            docker
                .start_container(&id, None)
                .await
                .map_err(|e| DockerError::api(format!("starting container {name}"), e)),
        ),
        Err(e) => Err(e),
    };
    let probed = match started {
        Ok(()) => probe(docker, &id, spec).await.map_err(|e| match e {
            ProbeError::Missing(missing) => unfit(missing),
            ProbeError::Docker(e) => e,
        }),
        Err(e) => Err(e),
    };
    if let Err(e) = probed {
        let _ = remove(docker, &id).await;
        return Err(e);
    }
    tracing::info!(container = %name, image = %spec.image, "created the app's container");
    Ok(id)
}

enum ProbeError {
    Missing(String),
    Docker(DockerError),
}

async fn probe(docker: &Docker, id: &str, spec: &DockerSpec) -> Result<(), ProbeError> {
    let (out, _) =
        oneshot::run(docker, id, scripts::probe(), Vec::new(), spec.user.as_deref(), HELPER_SLACK)
            .await
            .map_err(ProbeError::Docker)?;
    let missing = out.trim();
    if missing.is_empty() { Ok(()) } else { Err(ProbeError::Missing(missing.to_string())) }
}

fn archive_path(path: &str) -> bollard::query_parameters::ContainerArchiveInfoOptions {
    bollard::query_parameters::ContainerArchiveInfoOptions { path: path.to_string() }
}

/// Ends what an earlier tend's runs left in a reused container (see `scripts::sweep`).
async fn sweep(
    docker: &Docker,
    id: &str,
    user: Option<&str>,
    grace: Duration,
) -> Result<usize, DockerError> {
    let (out, _) =
        oneshot::run(docker, id, scripts::sweep(grace), Vec::new(), user, grace + HELPER_SLACK)
            .await?;
    let (ended, survivors) = scripts::parse_stop(&out);
    if !survivors.is_empty() {
        tracing::error!(container = id, ?survivors, "leftover processes survived SIGKILL");
    }
    Ok(ended)
}

/// Writes `owner` as the container's current owner ([`OWNER_FILE`]).
async fn write_owner(docker: &Docker, id: &str, owner: &ContainerOwner) -> Result<(), DockerError> {
    let tar = owner.to_tar().map_err(|e| DockerError::Wrapper(format!("owner file: {e}")))?;
    let options = UploadToContainerOptions { path: "/".into(), ..Default::default() };
    docker
        .upload_to_container(id, Some(options), bollard::body_full(tar.into()))
        .await
        .map_err(|e| DockerError::api("recording the container's owner", e))
}

/// The container's current owner: its owner file, else its labels (the creator).
pub(crate) async fn current_owner(
    docker: &Docker,
    id: &str,
    labels: &HashMap<String, String>,
) -> Option<ContainerOwner> {
    let options = DownloadFromContainerOptions { path: OWNER_FILE.into() };
    let mut stream = docker.download_from_container(id, Some(options));
    let mut archive = Vec::new();
    let mut complete = true;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) if archive.len() < 1024 * 1024 => archive.extend_from_slice(&bytes),
            _ => {
                complete = false;
                break;
            }
        }
    }
    let from_file = if complete { ContainerOwner::from_tar(&archive) } else { None };
    from_file.or_else(|| ContainerOwner::from_labels(labels))
}

/// Ends a container politely: when it runs, its processes get TERM and up to `grace` (the
/// sweep), then it is removed by force (SIGKILL to what is left). A container that is already
/// gone is not an error.
pub(crate) async fn retire(
    docker: &Docker,
    id: &str,
    user: Option<&str>,
    grace: Duration,
) -> Result<(), DockerError> {
    let running = match docker.inspect_container(id, None).await {
        Ok(c) => c.state.and_then(|s| s.running).unwrap_or(false),
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(_) => false,
    };
    if running
        && !grace.is_zero()
        && let Err(e) = sweep(docker, id, user, grace).await
    {
        tracing::debug!("ending the processes of container {id}: {e}");
    }
    remove(docker, id).await
}

/// Removes `id` by force; a container that is already gone is not an error.
pub(crate) async fn remove(docker: &Docker, id: &str) -> Result<(), DockerError> {
    let options = RemoveContainerOptions { force: true, v: true, link: false };
    match docker.remove_container(id, Some(options)).await {
        Ok(()) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(DockerError::api(format!("removing container {id}"), e)),
    }
}

/// What [`reap`] found.
#[derive(Debug, Default)]
pub(crate) struct Reaped {
    pub(crate) removed: usize,
    pub(crate) kept: usize,
    pub(crate) problems: Vec<String>,
}

/// Removes every tend container of `app` whose owning tend is gone (pid, start time and boot
/// id checked); keeps those whose owner runs.
pub(crate) async fn reap(docker: &Docker, app: &str, grace: Duration) -> Reaped {
    let mut reaped = Reaped::default();
    let filters = HashMap::from([(
        "label".to_string(),
        vec![format!("{LABEL_MANAGED}=1"), format!("{LABEL_APP}={app}")],
    )]);
    let options = ListContainersOptions { all: true, filters: Some(filters), ..Default::default() };
    let containers = match docker.list_containers(Some(options)).await {
        Ok(list) => list,
        Err(e) => {
            reaped.problems.push(format!("listing the containers of {app}: {e}"));
            return reaped;
        }
    };
    for container in containers {
        let Some(id) = container.id else { continue };
        let labels = container.labels.unwrap_or_default();
        match current_owner(docker, &id, &labels).await {
            Some(owner) if owner.is_alive() => reaped.kept += 1,
            owner => {
                tracing::info!(app, container = %id, owner = ?owner, "removing a container whose tend is gone");
                match retire(docker, &id, None, grace).await {
                    Ok(()) => reaped.removed += 1,
                    Err(e) => reaped.problems.push(e.to_string()),
                }
            }
        }
    }
    reaped
}
