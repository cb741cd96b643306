package io.machxp.kernel.futex;

import io.machxp.proto.task.AcquirePath;

/**
 * The answer to a lock that got the futex: how (a measure of the cache), whether the previous
 * owner died holding it (EOWNERDEAD: the caller owns it and should repair and mark it consistent),
 * and the fencing token of the kernel's grant of the futex.
 */
public record Acquired(AcquirePath path, boolean ownerDied, long fencingToken) {
}
