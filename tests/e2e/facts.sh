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
# The TPM2 token systemd-repart wrote into a LUKS2 header (its JSON area follows the 4 KiB
# binary header): the PCRs the key is sealed to, and those of the signed policy.
token_list() { # DEVICE KEY: the numbers of the JSON list "KEY":[…] in the header, comma-separated
  dd if="$1" bs=4096 skip=1 count=3 2>/dev/null | tr -d '\000' |
    grep -o "\"$2\":\\[[0-9,]*\\]" | head -n 1 | sed 's/.*\[//; s/\]//'
}
tokens() { # DEVICE: the kinds of its key slots, comma-separated
  systemd-cryptenroll "$1" 2>/dev/null | awk 'NR > 1 { print $2 }' | sort | tr '\n' ','
}
say root-tokens "$(tokens "$(dm_backing root)")"
say root-tpm2-pcrs "$(token_list "$(dm_backing root)" tpm2-pcrs)"
say root-tpm2-pubkey-pcrs "$(token_list "$(dm_backing root)" tpm2_pubkey_pcrs)"
say tpm2-unlock "$(journalctl -b -o cat -u 'systemd-cryptsetup@root.service' | grep -c 'TPM2')"
# /var, on its partition by its label (gpt-auto does not mount it: its UUID is not bound to the
# machine ID, which does not exist where it is made).
say var-source "$(findmnt -no SOURCE /var)"
say var-dm "$(dm_uuid var)"
say var-fstype "$(findmnt -no FSTYPE /var)"
# srv, which only the installer makes: on the installed disk, unlocked by the TPM at boot.
say srv-source "$(findmnt -no SOURCE /srv)"
say srv-dm "$(dm_uuid srv)"
say srv-fstype "$(findmnt -no FSTYPE /srv)"
if [ -n "$(dm_backing srv)" ]; then
  say srv-tokens "$(tokens "$(dm_backing srv)")"
  say srv-tpm2-pcrs "$(token_list "$(dm_backing srv)" tpm2-pcrs)"
  say srv-tpm2-pubkey-pcrs "$(token_list "$(dm_backing srv)" tpm2_pubkey_pcrs)"
fi
# Unlocked at boot with nobody at the console: by its only other key slot, the TPM's.
say srv-cryptsetup "$(systemctl show -P ActiveState systemd-cryptsetup@srv.service)"
# The installer, when the VM has the disk image (serial pcfg-image) and an empty disk
# (pcfg-target): pcfg-install as a user runs it, from a copy of the image as a file.
image=/dev/disk/by-id/virtio-pcfg-image target=/dev/disk/by-id/virtio-pcfg-target
if [ -e "$image" ] && [ -e "$target" ]; then
  size=$(head -n 1 "$image")
  dd if="$image" of=/var/tmp/image.raw bs=1M iflag=skip_bytes,count_bytes skip=1048576 \
    count="$size" conv=sparse status=none
  if pcfg-install /var/tmp/image.raw "$target" >/run/install.log 2>&1; then
    say install ok
  else
    say install "failed: $(tail -n 3 /run/install.log | tr '\n' ' ')"
  fi
  rm -f /var/tmp/image.raw
  udevadm settle
  # The recovery key pcfg-install printed last, in systemd-cryptenroll's format.
  tail -n 1 /run/install.log | tr -d '\n' >/run/recovery-key
  say install-recovery-key-format "$(grep -cE '^([cbdefghijklnrtuv]{8}-){7}[cbdefghijklnrtuv]{8}$' /run/recovery-key)"
  srv=$(lsblk -lnpo PATH,PARTTYPE "$(realpath "$target")" | awk '$2 == "3b8f8425-20e0-4f3b-907f-1a25a76f98e8" { print $1 }')
  say install-partitions "$(lsblk -lno PARTTYPE "$(realpath "$target")" | grep -c .)"
  if [ -n "$srv" ]; then
    say install-srv-tokens "$(tokens "$srv")"
    say install-srv-tpm2-pcrs "$(token_list "$srv" tpm2-pcrs)"
    say install-srv-tpm2-pubkey-pcrs "$(token_list "$srv" tpm2_pubkey_pcrs)"
    say install-srv-pcrlock "$(dd if="$srv" bs=4096 skip=1 count=3 2>/dev/null | tr -d '\000' | grep -c '"tpm2_pcrlock":true')"
    # Whether a key file alone unlocks srv: systemd-cryptenroll unlocks with exactly that key
    # (no token, no prompt) to enroll a password, which is then wiped again.
    opens_with() { # KEY-FILE
      out=$(NEWPASSWORD=pcfg-e2e systemd-cryptenroll --unlock-key-file="$1" --password "$srv" 2>&1)
      echo "$out" >>/run/attach.log
      slot=$(echo "$out" | sed -n 's/.*enrolled as key slot \([0-9]*\).*/\1/p')
      if [ -n "$slot" ]; then
        systemd-cryptenroll --wipe-slot="$slot" "$srv" >>/run/attach.log 2>&1; echo 1
      else echo 0; fi
    }
    : >/run/empty-key
    say install-srv-recovery-key-opens "$(opens_with /run/recovery-key)"
    say install-srv-empty-key-opens "$(opens_with /run/empty-key)"
    # The TPM unlocks it on this machine, as systemd-cryptsetup does at boot.
    if /usr/lib/systemd/systemd-cryptsetup attach pcfg-test "$srv" - tpm2-device=auto,headless=1 >>/run/attach.log 2>&1; then
      /usr/lib/systemd/systemd-cryptsetup detach pcfg-test; say install-srv-tpm2-opens 1
    else say install-srv-tpm2-opens 0; fi
    say install-srv-tokens-after "$(tokens "$srv")"
  fi
  rm -f /run/recovery-key
fi
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
echo '--- install'; cat /run/install.log /run/attach.log 2>/dev/null
echo '--- failed'; systemctl --failed --no-pager
