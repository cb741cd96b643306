package io.machxp.pager.policy;

/**
 * Direct handoff, after TreadMarks-style forwarding (xp-spec 14): when a kernel waits for a futex
 * another holds, the pager asks the holder to release it as usual and to send a copy of that
 * release, with the futex's page, straight to the waiting kernel, whose grant it reserves. The
 * waiting kernel uses the copy at once; the pager's grant, sent when the release arrives, confirms it.
 */
public record DirectHandoff() implements GrantPolicy {
    @Override
    public String name() {
        return "direct";
    }

    @Override
    public boolean directHandoff() {
        return true;
    }
}
