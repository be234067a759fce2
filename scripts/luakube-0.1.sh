# Sourced by the ci.d steps that run luakube 0.1 itself (30-differential,
# 31-luakube-specs): sets LUAKUBE to its unmodified copy (LUAKUBE if set, else
# ../shared/luakube-0.1 beside the checkout, else /work/shared/luakube-0.1),
# or ends the step with one failed check when there is none. Needs ROOT.
LUAKUBE=${LUAKUBE:-$ROOT/../shared/luakube-0.1}
[ -d "$LUAKUBE/src/kube" ] || LUAKUBE=/work/shared/luakube-0.1
if [ ! -d "$LUAKUBE/src/kube" ]; then
  echo "luakube 0.1 not found (set LUAKUBE=/path/to/luakube-0.1; expected ../shared/luakube-0.1)"
  echo "0 passed, 1 failed"
  exit 1
fi
