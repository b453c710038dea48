#!/bin/sh
# Modes git does not keep. Run from the context directory.
set -eu
chmod 0755 exec.sh
chmod 0600 private
chmod 4755 setuid
chmod 0700 dir
chmod 1777 dir/sub
chmod 0640 dir/sub/f
chown 1234:5678 plain
