#!/bin/sh
# Greets its first argument, in the image's words.
echo "$GREETING, ${1:-stranger}! (greet $(cat /app/VERSION), running as $(id -un))"
