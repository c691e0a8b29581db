//! End to end: `examples/server` compiled by `pcfg build`, built by `ninja -C out` with mkosi
//! 25.3 and systemd 257 (a Debian trixie root, `scripts/e2e-root`), and booted twice under QEMU
//! with OVMF's Secure Boot firmware and a software TPM (`scripts/e2e`); on the second boot the
//! image's installer (`pcfg-install`) installs it onto an empty disk, which boots third. The
//! booted system reports on its serial console (`tests/e2e/facts.sh`); this test reads that
//! report.
//!
//! The same root runs systemd 257's systemd-sysupdate over what pcfg emits for an extension's
//! update component (bookworm-backports' 254 reads it in the main suite).
//!
//! It needs root, loop devices and the network, and takes minutes: `.ci/run` runs it with
//! `cargo test --locked --features e2e --test boot`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `PCFG-E2E key=value` lines of a serial console log.
fn facts(log: &Path) -> BTreeMap<String, String> {
    let bytes = std::fs::read(log).unwrap_or_else(|e| panic!("{}: {e}", log.display()));
    let text = String::from_utf8_lossy(&bytes);
    text.lines()
        .filter_map(|line| line.trim_end_matches('\r').split_once("PCFG-E2E "))
        .filter_map(|(_, fact)| fact.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The value of `usrhash=` in a kernel command line, or in the bytes of a UKI.
fn usrhash(text: &str) -> Option<String> {
    let start = text.find("usrhash=")? + "usrhash=".len();
    let hash: String = text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (hash.len() == 64).then_some(hash)
}

/// The UKI the build signed, as bytes read as text (its `.cmdline` section is ASCII).
fn uki_cmdline_hash(work: &Path) -> String {
    let output = work.join("system/out/mkosi/mkosi.output");
    let uki = std::fs::read_dir(&output)
        .expect("mkosi.output")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "efi"))
        .expect("a UKI in mkosi.output");
    let bytes = std::fs::read(&uki).expect("UKI");
    usrhash(&String::from_utf8_lossy(&bytes)).expect("usrhash= in the UKI's command line")
}

/// The model of `examples/server`, as `pcfg` compiles it.
fn server_model() -> pcfg::model::Model {
    let compilation = pcfg::compile::check(
        &pcfg::vfs::RealFs,
        &repository().join("examples/server/system.pcfg"),
    )
    .expect("the example is readable");
    compilation.model.expect("the example compiles")
}

/// The PCRs `pcfg trust` says the example's root is sealed to, and those of the signed policy,
/// as the LUKS2 token lists them (`7`, `11`).
fn declared_pcrs() -> (String, String) {
    let tpm2 = server_model()
        .trust
        .tpm2
        .expect("the example seals to the TPM");
    let pcrs: Vec<String> = tpm2.pcrs.value.iter().map(u64::to_string).collect();
    let signed = if tpm2.signed_policy.value { "11" } else { "" };
    (pcrs.join(","), signed.to_owned())
}

fn check_boot(n: usize, facts: &BTreeMap<String, String>, signed_hash: &str) {
    let fact = |key: &str| {
        facts
            .get(key)
            .unwrap_or_else(|| panic!("boot {n}: no `{key}` on the console; facts: {facts:#?}"))
            .as_str()
    };
    assert_eq!(fact("done"), "1", "boot {n}: the report did not finish");
    assert_eq!(fact("multi-user"), "active", "boot {n}");
    // Secure Boot on, with the image's keys (systemd-boot enrolled them on the first boot).
    assert_eq!(fact("secure-boot"), "1", "boot {n}: Secure Boot is off");
    // /usr is a dm-verity device, verified against the root hash in the signed UKI.
    assert_eq!(fact("usr-source"), "/dev/mapper/usr", "boot {n}");
    assert!(
        fact("usr-dm").starts_with("CRYPT-VERITY-"),
        "boot {n}: /usr is not verity: {}",
        fact("usr-dm")
    );
    assert_eq!(
        usrhash(fact("cmdline")).as_deref(),
        Some(signed_hash),
        "boot {n}: the command line is not the signed UKI's"
    );
    assert_eq!(
        fact("usr-roothash"),
        signed_hash,
        "boot {n}: /usr's root hash"
    );
    // The root file system: made at first boot, XFS, in LUKS2, unlocked by the TPM.
    assert_eq!(fact("root-source"), "/dev/mapper/root", "boot {n}");
    assert!(
        fact("root-dm").starts_with("CRYPT-LUKS2-"),
        "boot {n}: root is not LUKS2: {}",
        fact("root-dm")
    );
    assert_eq!(fact("root-fstype"), "xfs", "boot {n}");
    assert!(
        fact("root-tokens").split(',').any(|t| t == "tpm2"),
        "boot {n}: no TPM2 key slot on root: {}",
        fact("root-tokens")
    );
    assert_ne!(
        fact("tpm2-unlock"),
        "0",
        "boot {n}: root not unlocked by the TPM"
    );
    // Sealed to exactly what `pcfg trust` says: `trust.tpm2.pcrs` and the signed PCR 11 policy.
    let (pcrs, pubkey_pcrs) = declared_pcrs();
    assert_eq!(
        fact("root-tpm2-pcrs"),
        pcrs,
        "boot {n}: the PCRs root is sealed to"
    );
    assert_eq!(
        fact("root-tpm2-pubkey-pcrs"),
        pubkey_pcrs,
        "boot {n}: the PCRs of the signed policy"
    );
    // /var on its own partition, LUKS2, made at first boot (or by the installer) and mounted
    // by pcfg's units from the first boot on.
    assert_eq!(fact("var-source"), "/dev/mapper/var", "boot {n}: /var");
    assert!(
        fact("var-dm").starts_with("CRYPT-LUKS2-"),
        "boot {n}: /var is not LUKS2: {}",
        fact("var-dm")
    );
    assert_eq!(fact("var-fstype"), "xfs", "boot {n}: /var");
    // The image's /etc reached the system: the declared SSH server runs.
    assert_eq!(fact("ssh"), "active", "boot {n}: ssh.service");
    // The ESP is mounted where systemd-sysupdate finds $BOOT, and sysupdate sees the running
    // version as the current one.
    assert!(
        ["/boot", "/efi"].contains(&fact("esp")),
        "boot {n}: the ESP is not mounted: `{}`",
        fact("esp")
    );
    assert_eq!(
        fact("sysupdate-current"),
        "1.0",
        "boot {n}: systemd-sysupdate"
    );
}

/// The partition the example leaves to its installer (`create = install`), and the partitions
/// of the disk the installer lays out.
fn installed_by_installer() -> (String, usize) {
    let model = server_model();
    let partition = model
        .partitions
        .iter()
        .find(|p| p.create().value == Some(pcfg::model::Create::Install))
        .expect("the example has a partition only the installer makes");
    (partition.name.clone(), model.layout.len())
}

#[test]
fn the_server_example_builds_boots_twice_and_installs_itself() {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-server");
    let status = Command::new(repository().join("scripts/e2e"))
        .arg(repository().join("examples/server"))
        .arg(&work)
        .env("PCFG", env!("CARGO_BIN_EXE_pcfg"))
        .status()
        .expect("scripts/e2e runs");
    assert!(status.success(), "scripts/e2e failed: {status}");
    let signed_hash = uki_cmdline_hash(&work);
    let boots: Vec<_> = (1..=3)
        .map(|n| facts(&work.join(format!("console-{n}.log"))))
        .collect();
    for (n, facts) in boots.iter().enumerate() {
        check_boot(n + 1, facts, &signed_hash);
    }
    let [first, second, third] = &boots[..] else {
        unreachable!()
    };
    // First boot: systemd-repart made slot B and root; second boot: nothing left to do.
    assert_eq!(first["repart"], "changed", "boot 1: systemd-repart");
    assert_eq!(second["repart"], "no-changes", "boot 2: systemd-repart");

    // Boot 2 ran the image's installer: `pcfg-install IMAGE DISK` onto an empty disk.
    let (srv, partitions) = installed_by_installer();
    assert_eq!(srv, "srv", "the facts name the example's `srv`");
    assert_eq!(
        second["install"], "ok",
        "boot 2: pcfg-install; facts: {second:#?}"
    );
    // The whole disk: the image's partitions copied, those of first boot and the installer's made.
    assert_eq!(
        second["install-partitions"],
        partitions.to_string(),
        "boot 2: the installed disk's partitions"
    );
    assert_eq!(
        second["install-recovery-key-format"], "1",
        "boot 2: the recovery key pcfg-install printed"
    );
    // srv: LUKS2 with the printed recovery key and a TPM2 key slot sealed to what `pcfg trust`
    // says — and no key slot anyone could open (the empty key of a first-boot key file).
    assert_eq!(
        second["install-srv-tokens"], "password,tpm2,",
        "boot 2: srv's key slots"
    );
    let (pcrs, pubkey_pcrs) = declared_pcrs();
    assert_eq!(second["install-srv-tpm2-pcrs"], pcrs, "boot 2: srv's PCRs");
    assert_eq!(
        second["install-srv-tpm2-pubkey-pcrs"], pubkey_pcrs,
        "boot 2: srv's signed policy"
    );
    // Sealed to nothing else: no pcrlock policy (systemd-repart adds the booted system's, which
    // the installed system cannot satisfy, unless told `--tpm2-pcrlock=`).
    assert_eq!(
        second["install-srv-pcrlock"], "0",
        "boot 2: srv is sealed to a pcrlock policy"
    );
    assert_eq!(
        second["install-srv-recovery-key-opens"], "1",
        "boot 2: the recovery key opens srv"
    );
    assert_eq!(
        second["install-srv-empty-key-opens"], "0",
        "boot 2: an empty key opens srv"
    );
    assert_eq!(
        second["install-srv-tpm2-opens"], "1",
        "boot 2: the TPM opens srv"
    );
    assert_eq!(
        second["install-srv-tokens-after"], "password,tpm2,",
        "boot 2: srv's key slots after the checks"
    );

    // Boot 3, from the installed disk: every partition was made by the installer, srv is
    // mounted at /srv, unlocked by the TPM.
    assert_eq!(third["repart"], "no-changes", "boot 3: systemd-repart");
    assert_eq!(third["srv-source"], "/dev/mapper/srv", "boot 3: /srv");
    assert!(
        third["srv-dm"].starts_with("CRYPT-LUKS2-"),
        "boot 3: srv is not LUKS2: {}",
        third["srv-dm"]
    );
    assert_eq!(third["srv-fstype"], "xfs", "boot 3: /srv");
    assert_eq!(
        third["srv-tokens"], "password,tpm2,",
        "boot 3: srv's key slots"
    );
    // Unlocked with nobody to type the recovery key: a prompt would hold the boot until the
    // timeout, and srv has no other key slot than the TPM's.
    assert_eq!(
        third["srv-cryptsetup"], "active",
        "boot 3: srv not unlocked by the TPM"
    );
    // Booted as it is, the image has no srv: only the installer makes it.
    assert_eq!(first["srv-source"], "", "boot 1: /srv");
}

/// Runs the end-to-end root's systemd-sysupdate 257 on `WORK/root` for one component, with the
/// image's keyring (`WORK/root/usr/lib/systemd/import-pubring.gpg`, when it has one) as the
/// running system's: whether it succeeded, and what it printed.
fn sysupdate_257(work: &Path, component: &str, args: &[&str]) -> (bool, String) {
    let prepared = Command::new(repository().join("scripts/e2e-root"))
        .status()
        .expect("scripts/e2e-root runs");
    assert!(prepared.success());
    let target = repository().join("target/e2e");
    let cache = target.join("cache");
    std::fs::create_dir_all(&cache).expect("mkdir");
    let output = Command::new(repository().join("scripts/in-root"))
        .arg(target.join("root"))
        .arg(work)
        .arg(&cache)
        // systemd-pull verifies downloads with the running system's keyring, not the one under
        // `--root`: the image's keyring stands in for it, as it does on the booted image.
        .args([
            "sh",
            "-c",
            "keyring=/usr/lib/systemd/import-pubring.gpg; \
             if [ -e \"/work/root$keyring\" ]; then mount --bind \"/work/root$keyring\" \"$keyring\"; fi; \
             exec /usr/lib/systemd/systemd-sysupdate \"$@\"",
            "sh",
            "--root=/work/root",
            "--no-pager",
            &format!("--component={component}"),
        ])
        .args(args)
        .output()
        .expect("systemd-sysupdate runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// AtomOS's extensions as the image carries them: systemd-sysupdate 257 finds every component
/// pcfg emits, reads each one's transfer offline, and knows the optional extension's feature
/// (disabled until a drop-in enables it).
#[test]
fn systemd_sysupdate_257_reads_every_component_of_atomos() {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-atomos");
    let _ = std::fs::remove_dir_all(&work);
    let out = work.join("out");
    let built = Command::new(env!("CARGO_BIN_EXE_pcfg"))
        .args(["build", "system.pcfg", "-o"])
        .arg(&out)
        .current_dir(repository().join("examples/atomos"))
        .output()
        .expect("pcfg runs");
    assert!(built.status.success(), "{built:?}");
    let components = out.join("sysupdate-components");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&components).expect("components") {
        let dir = entry.expect("entry").path();
        let to = work
            .join("root/usr/lib")
            .join(dir.file_name().expect("name"));
        std::fs::create_dir_all(&to).expect("mkdir");
        for file in std::fs::read_dir(&dir).expect("component") {
            let file = file.expect("file").path();
            std::fs::copy(&file, to.join(file.file_name().expect("name"))).expect("copy");
        }
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        names.push(name["sysupdate.".len()..name.len() - ".d".len()].to_owned());
    }
    names.sort();
    assert_eq!(
        names,
        ["debugtools", "devtools", "ssh-hardening", "toolchain-libs"]
    );
    for dir in ["var/lib/extensions", "var/lib/confexts"] {
        std::fs::create_dir_all(work.join("root").join(dir)).expect("mkdir");
    }
    let (ok, text) = sysupdate_257(&work, "devtools", &["components"]);
    assert!(ok, "{text}");
    let listed: Vec<&str> = text.lines().filter(|l| !l.contains(' ')).collect();
    assert_eq!(listed, names, "{text}");
    for name in ["devtools", "ssh-hardening", "toolchain-libs"] {
        let (ok, text) = sysupdate_257(&work, name, &["--offline", "list"]);
        assert!(ok, "{name}: {text}");
    }
    let (ok, text) = sysupdate_257(&work, "debugtools", &["--offline", "list"]);
    assert!(!ok && text.contains("No transfer definitions"), "{text}");
    let dropin = work.join("root/etc/sysupdate.debugtools.d/debugtools.feature.d");
    std::fs::create_dir_all(&dropin).expect("mkdir");
    std::fs::write(dropin.join("enable.conf"), "[Feature]\nEnabled=yes\n").expect("write");
    let (ok, text) = sysupdate_257(&work, "debugtools", &["features", "debugtools"]);
    assert!(ok && text.contains("Enabled: yes"), "{text}");
    assert!(text.contains("The debugtools system extension"), "{text}");
    let (ok, text) = sysupdate_257(&work, "debugtools", &["--offline", "list"]);
    assert!(ok, "{text}");
}

/// systemd 257 (trixie's, the target the release gives) reads an extension's update component
/// as pcfg emits it (`sysupdate.NAME.d/NAME.transfer`), lists the installed version as current
/// and a newer one from the channel as a candidate, and updates it: the new image in
/// `/var/lib/extensions.d/`, the `CurrentSymlink=` in `/var/lib/extensions/` pointing at it.
/// An optional extension's component (`NAME.feature`, `Features=NAME`) installs nothing until
/// its feature is enabled by a drop-in, and then installs the image.
#[test]
fn systemd_sysupdate_257_updates_an_extension_component() {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-sysupdate");
    let _ = std::fs::remove_dir_all(&work);
    for tree in ["tools", "extra"] {
        std::fs::create_dir_all(work.join("config/ext").join(tree).join("usr/bin")).expect("mkdir");
        std::fs::write(
            work.join("config/ext")
                .join(tree)
                .join("usr/bin")
                .join(tree),
            tree,
        )
        .expect("write");
    }
    std::fs::write(
        work.join("config/system.pcfg"),
        "system { name = \"x\", version = \"1\", distribution = debian, release = \"trixie\" }\n\
         partition esp { type = esp, size = 512M }\n\
         partition usr { type = usr, size = 2G, slots = 2, format = erofs }\n\
         update.channel.local.source = \"/srv/updates\"\n\
         extension tools { kind = sysext, source = \"ext/tools\" }\n\
         extension extra { kind = sysext, source = \"ext/extra\", optional = true, requires = [tools] }\n",
    )
    .expect("write");
    let run = Command::new(env!("CARGO_BIN_EXE_pcfg"))
        .args(["build", "system.pcfg", "-o", "out"])
        .current_dir(work.join("config"))
        .output()
        .expect("pcfg runs");
    assert!(run.status.success(), "{run:?}");
    for file in [
        "sysupdate.tools.d/tools.transfer",
        "sysupdate.extra.d/extra.transfer",
        "sysupdate.extra.d/extra.feature",
    ] {
        let to = work.join("root/usr/lib").join(file);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(work.join("config/out/sysupdate-components").join(file), to)
            .expect("the components' files");
    }
    for (path, contents) in [
        ("srv/updates/tools_1.raw", "one"),
        ("srv/updates/tools_2.raw", "two"),
        ("srv/updates/extra_2.raw", "extra two"),
        ("var/lib/extensions.d/tools_1.raw", "one"),
    ] {
        let path = work.join("root").join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
    }
    std::fs::create_dir_all(work.join("root/var/lib/extensions")).expect("mkdir");
    let run = |component: &str, args: &[&str]| sysupdate_257(&work, component, args);
    let sysupdate = |args: &[&str]| -> String {
        let (ok, text) = run("tools", args);
        assert!(ok, "{text}");
        text
    };
    assert!(sysupdate(&["--version"]).contains("systemd 257"));
    let listed = sysupdate(&["--no-legend", "list"]);
    let rows: Vec<Vec<&str>> = listed
        .lines()
        .map(|l| {
            l.split_whitespace()
                .filter(|w| !["●", "↻", "✓"].contains(w))
                .collect()
        })
        .collect();
    assert!(
        rows.iter()
            .any(|r| r.first() == Some(&"2") && r.contains(&"candidate")),
        "{listed}"
    );
    assert!(
        rows.iter()
            .any(|r| r.first() == Some(&"1") && r.contains(&"current")),
        "{listed}"
    );
    sysupdate(&["update"]);
    assert_eq!(
        std::fs::read_to_string(work.join("root/var/lib/extensions.d/tools_2.raw"))
            .expect("installed"),
        "two"
    );
    assert_eq!(
        std::fs::read_link(work.join("root/var/lib/extensions/tools.raw"))
            .expect("the current link"),
        Path::new("../extensions.d/tools_2.raw")
    );
    // The optional extension: its feature is disabled, so its component has no transfer to run
    // (systemd 257 says so and stops) and nothing is installed.
    let (ok, text) = run("extra", &["update"]);
    assert!(!ok && text.contains("No transfer definitions"), "{text}");
    assert!(!work.join("root/var/lib/extensions.d/extra_2.raw").exists());
    // Enabled by the administrator's drop-in, as `sysupdate.features(5)` shows.
    let dropin = work.join("root/etc/sysupdate.extra.d/extra.feature.d");
    std::fs::create_dir_all(&dropin).expect("mkdir");
    std::fs::write(dropin.join("enable.conf"), "[Feature]\nEnabled=yes\n").expect("write");
    let (ok, text) = run("extra", &["features", "extra"]);
    assert!(
        ok && text.contains("Enabled: yes") && text.contains("Transfers: extra"),
        "{text}"
    );
    let (ok, text) = run("extra", &["update"]);
    assert!(ok, "{text}");
    assert_eq!(
        std::fs::read_link(work.join("root/var/lib/extensions/extra.raw"))
            .expect("the optional extension's link"),
        Path::new("../extensions.d/extra_2.raw")
    );
}

/// Stops the gpg-agent of the home directory `home`, if one runs: an agent left from an earlier
/// run, whose directory the test removes and makes again, can break the signing of the next
/// ("can't connect to the agent").
fn stop_gpg_agent(home: &Path) {
    if home.is_dir() {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", home)
            .output();
    }
}

/// Makes an OpenPGP signing key in the home directory of gpg `home`; returns the public key, binary.
fn gpg_key(home: &Path, name: &str) -> Vec<u8> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(home).expect("mkdir");
    std::fs::set_permissions(home, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let gpg = |args: &[&str]| {
        let output = Command::new("gpg")
            .env("GNUPGHOME", home)
            .args(["--batch", "--quiet"])
            .args(args)
            .output()
            .expect("gpg runs");
        assert!(output.status.success(), "{output:?}");
        output.stdout
    };
    gpg(&[
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        "--quick-gen-key",
        name,
        "ed25519",
        "sign",
        "never",
    ]);
    gpg(&["--export", name])
}

/// Signed downloads, as systemd-sysupdate 257 checks them: a channel with a `key` publishes
/// `SHA256SUMS` signed by it (the publish step's own command, as `ninja -t commands` gives it),
/// the image's keyring is that key, and systemd-sysupdate downloads over HTTP and installs an
/// extension whose `SHA256SUMS` the key signed, and refuses one signed by another key.
#[test]
fn systemd_sysupdate_257_verifies_a_signed_channel() {
    let work = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("e2e-signed");
    stop_gpg_agent(&work.join("gnupg"));
    stop_gpg_agent(&work.join("other"));
    let _ = std::fs::remove_dir_all(&work);
    let config = work.join("config");
    std::fs::create_dir_all(config.join("ext/tools/usr/bin")).expect("mkdir");
    std::fs::create_dir_all(config.join("keys")).expect("mkdir");
    std::fs::write(config.join("ext/tools/usr/bin/tools"), "tools").expect("write");
    let gnupg = work.join("gnupg");
    let key = gpg_key(&gnupg, "pcfg e2e updates <updates@example.org>");
    std::fs::write(config.join("keys/updates.gpg"), &key).expect("write");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    std::fs::write(
        config.join("system.pcfg"),
        format!(
            "system {{ name = \"x\", version = \"1\", distribution = debian, release = \"trixie\" }}\n\
             partition esp {{ type = esp, size = 512M }}\n\
             partition usr {{ type = usr, size = 2G, slots = 2, format = erofs }}\n\
             update {{ channel web {{ source = \"http://127.0.0.1:{port}/\", key = \"keys/updates.gpg\" }} }}\n\
             extension tools {{ kind = sysext, source = \"ext/tools\" }}\n"
        ),
    )
    .expect("write");
    let out = config.join("out");
    let built = Command::new(env!("CARGO_BIN_EXE_pcfg"))
        .args(["build", "system.pcfg", "-o", "out"])
        .current_dir(&config)
        .output()
        .expect("pcfg runs");
    assert!(built.status.success(), "{built:?}");
    let transfer =
        std::fs::read_to_string(out.join("sysupdate-components/sysupdate.tools.d/tools.transfer"))
            .expect("the component");
    assert!(transfer.contains("[Transfer]\nVerify=yes\n"), "{transfer}");
    let mkosi = std::fs::read_to_string(out.join("mkosi/mkosi.conf")).expect("mkosi.conf");
    assert!(
        mkosi.contains("keys/updates.gpg:/usr/lib/systemd/import-pubring.gpg"),
        "{mkosi}"
    );
    // What mkosi would have made: a file for every pattern the channel publishes, version 2.
    let ninja = std::fs::read_to_string(out.join("build.ninja")).expect("build.ninja");
    let edge = ninja
        .lines()
        .find(|l| l.contains(": publish-signed |"))
        .expect("a signed publish step");
    let stamp = edge["build ".len()..edge.find(':').expect("a colon")].to_owned();
    let files = ninja
        .lines()
        .skip_while(|l| *l != edge)
        .find_map(|l| l.strip_prefix("  files = "))
        .expect("the published files");
    for pattern in files.split(' ') {
        let file = out.join(pattern.replace('*', "2"));
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, pattern).expect("write");
    }
    // The publish step's command, exactly as Ninja would run it (its last command).
    let commands = Command::new("ninja")
        .args(["-t", "commands", &stamp])
        .current_dir(&out)
        .output()
        .expect("ninja runs");
    let commands = String::from_utf8_lossy(&commands.stdout).into_owned();
    let publish = commands.lines().last().expect("the publish command");
    assert!(publish.contains("--detach-sign"), "{publish}");
    // Ninja makes the directories of a step's outputs before it runs the command.
    std::fs::create_dir_all(out.join(".pcfg")).expect("mkdir");
    let published = Command::new("sh")
        .args(["-c", publish])
        .env("GNUPGHOME", &gnupg)
        .current_dir(&out)
        .output()
        .expect("sh runs");
    assert!(published.status.success(), "{published:?}");
    let channel = out.join("publish/web");
    let sums = std::fs::read_to_string(channel.join("SHA256SUMS")).expect("SHA256SUMS");
    assert!(sums.contains("  tools_2.raw\n"), "{sums}");
    assert!(channel.join("SHA256SUMS.gpg").exists());
    // The image: the component, the keyring, version 1 installed.
    let root = work.join("root");
    for (path, contents) in [
        (
            "usr/lib/sysupdate.tools.d/tools.transfer",
            transfer.as_bytes(),
        ),
        ("usr/lib/systemd/import-pubring.gpg", key.as_slice()),
        ("var/lib/extensions.d/tools_1.raw", b"one".as_slice()),
    ] {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, contents).expect("write");
    }
    std::fs::create_dir_all(root.join("var/lib/extensions")).expect("mkdir");
    let mut server = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(&channel)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("an HTTP server");
    // Until it answers.
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let (updated, text) = sysupdate_257(&work, "tools", &["update"]);
    // A newer version whose SHA256SUMS another key signed: refused.
    let other = gpg_key(&work.join("other"), "someone else <else@example.org>");
    assert!(!other.is_empty());
    std::fs::write(channel.join("tools_3.raw"), "three").expect("write");
    let resigned = Command::new("sh")
        .args([
            "-c",
            "rm -f SHA256SUMS SHA256SUMS.gpg && sha256sum -- * > SHA256SUMS && gpg --batch --yes --detach-sign --output SHA256SUMS.gpg SHA256SUMS",
        ])
        .env("GNUPGHOME", work.join("other"))
        .current_dir(&channel)
        .output()
        .expect("sh runs");
    let (forged, forged_text) = sysupdate_257(&work, "tools", &["update"]);
    let _ = server.kill();
    let _ = server.wait();
    stop_gpg_agent(&work.join("gnupg"));
    stop_gpg_agent(&work.join("other"));
    assert!(updated, "{text}");
    assert_eq!(
        std::fs::read_link(root.join("var/lib/extensions/tools.raw")).expect("the current link"),
        Path::new("../extensions.d/tools_2.raw")
    );
    assert!(resigned.status.success(), "{resigned:?}");
    assert!(!forged, "a forged SHA256SUMS was accepted: {forged_text}");
    assert!(
        forged_text.contains("Signature verification failed"),
        "{forged_text}"
    );
    assert!(!root.join("var/lib/extensions.d/tools_3.raw").exists());
}
