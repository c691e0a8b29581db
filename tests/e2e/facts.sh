# Runs in the booted system (credential pcfg-e2e.facts): one `PCFG-E2E key=value` line per fact
# the end-to-end test asserts, then the raw output it was read from.
export SYSTEMD_COLORS=0 SYSTEMD_PAGER=cat
say() { printf 'PCFG-E2E %s=%s\n' "$1" "$2"; }
dm_backing() { # NAME: the block device under the mapping NAME
  for d in /sys/block/dm-*; do
    [ "$(cat "$d/dm/name")" = "$1" ] && echo "/dev/$(ls "$d/slaves" | head -n 1)"
  done
}
dm_uuid() { # NAME: the device-mapper UUID of the mapping NAME (CRYPT-VERITY-…, CRYPT-LUKS2-…)
  for d in /sys/block/dm-*; do
    [ "$(cat "$d/dm/name")" = "$1" ] && cat "$d/dm/uuid"
  done
}
say multi-user "$(systemctl is-active multi-user.target)"
say cmdline "$(cat /proc/cmdline)"
say usr-source "$(findmnt -no SOURCE /usr)"
say usr-dm "$(dm_uuid usr)"
say root-source "$(findmnt -no SOURCE /)"
say root-dm "$(dm_uuid root)"
say root-fstype "$(findmnt -no FSTYPE /)"
# The root hash the kernel verifies /usr against, as systemd-veritysetup was given it.
say usr-roothash "$(systemctl show -P ExecStart systemd-veritysetup@usr.service | tr ' ;' '\n\n' | grep -E '^[0-9a-f]{64}$' | head -n 1)"
say secure-boot "$(od -An -tu1 -j4 -N1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c | tr -d ' ')"
say root-tokens "$(systemd-cryptenroll "$(dm_backing root)" 2>/dev/null | awk 'NR > 1 { print $2 }' | sort | tr '\n' ',')"
# The TPM2 token systemd-repart wrote into root's LUKS2 header (its JSON area follows the 4 KiB
# binary header): the PCRs the key is sealed to, and those of the signed policy.
luks_json=$(dd if="$(dm_backing root)" bs=4096 skip=1 count=3 2>/dev/null | tr -d '\000')
token_list() { # KEY: the numbers of the JSON list "KEY":[…] in the header, comma-separated
  printf '%s' "$luks_json" | grep -o "\"$1\":\\[[0-9,]*\\]" | head -n 1 | sed 's/.*\[//; s/\]//'
}
say root-tpm2-pcrs "$(token_list tpm2-pcrs)"
say root-tpm2-pubkey-pcrs "$(token_list tpm2_pubkey_pcrs)"
say tpm2-unlock "$(journalctl -b -o cat -u 'systemd-cryptsetup@root.service' | grep -c 'TPM2')"
# What systemd-repart did in the initrd: "changed" the partition table, or found "no-changes".
repart=$(journalctl -b -o cat -u systemd-repart.service)
if echo "$repart" | grep -q 'Writing new partition table'; then say repart changed
elif echo "$repart" | grep -q 'No changes'; then say repart no-changes
else say repart unknown; fi
say ssh "$(systemctl is-active ssh.service)"
say esp "$(bootctl --print-esp-path 2>/dev/null)"
say sysupdate-current "$(/usr/lib/systemd/systemd-sysupdate --offline list 2>/dev/null | awk '/current/ { print $2 }' | head -n 1)"
echo '--- lsblk'; lsblk -o NAME,PARTLABEL,FSTYPE,SIZE,MOUNTPOINTS
echo '--- veritysetup'; systemctl show -p ExecStart systemd-veritysetup@usr.service
echo '--- cryptenroll'; systemd-cryptenroll "$(dm_backing root)" 2>&1
echo '--- sysupdate'; /usr/lib/systemd/systemd-sysupdate --offline list 2>&1
echo '--- journal'; journalctl -b -o short-monotonic --no-pager -u systemd-repart.service -u 'systemd-cryptsetup@*' -u 'systemd-veritysetup@*' | tail -n 40
echo '--- mounts'; findmnt --real -o TARGET,SOURCE,FSTYPE
echo '--- gpt-auto'; mkdir -p /tmp/gpt-auto; SYSTEMD_LOG_LEVEL=debug /usr/lib/systemd/system-generators/systemd-gpt-auto-generator /tmp/gpt-auto /tmp/gpt-auto /tmp/gpt-auto 2>&1 | tail -n 40
echo '--- failed'; systemctl --failed --no-pager
