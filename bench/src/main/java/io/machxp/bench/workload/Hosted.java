package io.machxp.bench.workload;

import java.util.List;

/**
 * A lock service whose servers run in the bench's JVM and whose workers can run as clients in
 * processes of their own ({@code --api process}): it tells a worker process how to connect.
 */
public interface Hosted extends LockService {
    /**
     * What a worker process needs to open the client side ({@code io.machxp.bench.systems.Clients}):
     * the kind of system first, then its addresses; plain words without spaces.
     */
    List<String> connection();
}
