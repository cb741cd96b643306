package io.machxp.proto.shm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Prints how a JVM started with given flags checks leases (LeaseRunsTest). */
final class LeaseRunsProbe {
    private LeaseRunsProbe() {}

    public static void main(String[] args) {
        ByteBuffer kernel = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
        ShmLayout.LONG.setVolatile(kernel, ShmLayout.LEASE_END, System.nanoTime() + 60_000_000_000L);
        boolean ahead = ShmLayout.leaseRuns(kernel);
        ShmLayout.LONG.setVolatile(kernel, ShmLayout.LEASE_END, System.nanoTime() - 1);
        boolean ended = ShmLayout.leaseRuns(kernel);
        ShmLayout.LONG.setVolatile(kernel, ShmLayout.LEASE_END, Long.MIN_VALUE);
        boolean closed = ShmLayout.leaseRuns(kernel);
        System.out.println("coarse=" + TaskClock.coarse() + " ahead=" + ahead + " ended=" + ended + " closed=" + closed);
    }
}
