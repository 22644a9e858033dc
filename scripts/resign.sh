#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Re-author and re-sign every patch with the sender's git identity
# (user.name/user.email as git sees them in this repo, or GIT_AUTHOR_NAME
# and GIT_AUTHOR_EMAIL), then regenerate patches/.  The previous author's
# Signed-off-by is replaced; other trailers stay.
. "$(dirname "$0")/lib.sh"

name=${GIT_AUTHOR_NAME:-$(git -C "$REPO" config user.name || true)}
email=${GIT_AUTHOR_EMAIL:-$(git -C "$REPO" config user.email || true)}
[ -n "$name" ] && [ -n "$email" ] ||
	die "no git identity: set git config user.name and user.email (or GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL)"
"$(dirname "$0")/tree.sh"
[ -z "$(git -C "$KSRC" status --porcelain --untracked-files=no)" ] || die "$KSRC has uncommitted changes"

# For each commit: drop its old author's Signed-off-by, reset the author,
# sign off as the sender.
exec_cmd='old=$(git log -1 --format="%an <%ae>"); git log -1 --format=%B | grep -vxF "Signed-off-by: $old" >"$GIT_DIR/resign-msg"; git commit -q --amend --reset-author -s -F "$GIT_DIR/resign-msg"'
# The other series' branches point into "series": note how far from its tip
# each is, and point them there again afterwards.
declare -A behind
for set in "${SERIES_SETS[@]}"; do
	b=$(set_branch "$set")
	[ "$b" = series ] || behind[$b]=$(kgit rev-list --count "$b..series")
done
GIT_SEQUENCE_EDITOR=true git -C "$KSRC" -c user.name="$name" -c user.email="$email" \
	rebase -q -i --exec "$exec_cmd" "$BASE_TAG" series ||
	die "re-signing failed; 'git rebase --abort' in $KSRC restores the series"
for b in "${!behind[@]}"; do
	kgit branch -q -f "$b" "series~${behind[$b]}"
done
"$(dirname "$0")/patches.sh"
say "every patch is now authored and signed off by $name <$email>"
