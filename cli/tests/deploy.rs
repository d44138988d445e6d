//! The Kubernetes manifests in deploy/k8s cannot run here, but what they ask of `mosaic` can
//! be checked: every command line they give exists, and the names they point at are defined.

use std::path::PathBuf;
use std::process::Command;

fn manifests() -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/k8s");
    let mut all: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("deploy/k8s exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    all.sort();
    all
}

/// The `args:` lists of containers running the `mosaic` image.
fn mosaic_command_lines(text: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim() != "image: mosaic" {
            continue;
        }
        let Some(start) = lines[i..].iter().position(|l| l.trim() == "args:") else {
            continue;
        };
        let args: Vec<String> = lines[i + start + 1..]
            .iter()
            .map(|l| l.trim())
            .take_while(|l| l.starts_with("- "))
            .map(|l| l[2..].to_string())
            .collect();
        found.push(args);
    }
    found
}

fn help(subcommand: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mosaic"))
        .args(subcommand)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "mosaic {subcommand:?} --help failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_mosaic_command_line_in_the_manifests_uses_real_flags() {
    let mut checked = 0;
    for (file, text) in manifests() {
        for args in mosaic_command_lines(&text) {
            let subcommand: Vec<String> = args
                .iter()
                .take_while(|a| !a.starts_with("--"))
                .cloned()
                .collect();
            assert!(!subcommand.is_empty(), "{file}: no subcommand in {args:?}");
            let help = help(&subcommand);
            for flag in args.iter().filter(|a| a.starts_with("--")) {
                let name = flag.split('=').next().unwrap();
                assert!(
                    help.contains(&format!("{name} ")) || help.contains(&format!("{name}\n")),
                    "{file}: `mosaic {}` has no flag {name}",
                    subcommand.join(" ")
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 2, "the registry and image containers");
}

#[test]
fn the_names_the_manifests_point_at_are_defined() {
    let all: String = manifests().into_iter().map(|(_, t)| t).collect();
    // Servers find the registry through its Service; the registry finds etcd's members
    // through the headless Service of the StatefulSet.
    assert!(all.contains("--registry=mosaic-registry:7070"));
    assert!(all.contains("name: mosaic-registry\nspec:"));
    assert!(all.contains("{name: thrift, port: 7070, targetPort: 7070}"));
    for member in ["etcd-0", "etcd-1", "etcd-2"] {
        assert!(all.contains(&format!("http://{member}.etcd:2379")));
    }
    assert!(all.contains("serviceName: etcd") && all.contains("replicas: 3"));
    // Pods advertise their own IP, which Kubernetes gives through the downward API.
    assert!(all.contains("--advertise-host=$(POD_IP)"));
    assert!(all.contains("fieldPath: status.podIP"));
}
