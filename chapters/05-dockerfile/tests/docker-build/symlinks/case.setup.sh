#!/bin/sh
# Symbolic links: kept out of git so their targets stay exactly these, made in the copy of the
# context the build uses. Run from the context directory.
set -eu
ln -s target.txt link-to-file
ln -s tree link-to-dir
ln -s /target.txt absolute-into-context
ln -s file tree/relative
ln -s ../target.txt tree/up-inside
ln -s ../../../outside tree/up-outside
ln -s /etc/passwd tree/absolute-outside
ln -s missing tree/dangling
