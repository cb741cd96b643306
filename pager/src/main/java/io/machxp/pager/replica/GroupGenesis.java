package io.machxp.pager.replica;

import com.google.protobuf.ByteString;
import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.PageStore;
import io.machxp.proto.replica.Genesis;
import io.machxp.proto.replica.GenesisObject;
import io.machxp.proto.replica.GenesisObjects;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a group's genesis fixes for its whole life, besides what {@link ReplicaCore#configuredIn}
 * writes (lease, answer deadline, page size): drawn by the first leader, checked by every replica
 * as it builds its core.
 *
 * <pre>
 *  token epoch   seconds since 2024-01-01 UTC at the first leader's start (PageStore#epochSecond, as an
 *                unreplicated pager's), its millisecond in the first token; a group whose genesis
 *                fixed another (Unix seconds, before this) keeps it: the epoch is read from the log
 *  token seed    32 bytes from a secure source
 *  objects       name -> size, in the order given; a replica configured with other objects (one
 *                missing, one more, another size) builds no core, as for another page size: it would
 *                apply the same log to other objects and part from the group. A genesis without
 *                objects (a log written before this) is not checked: a warning says so
 * </pre>
 */
final class GroupGenesis {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(GroupGenesis.class);

    private GroupGenesis() {}

    /** A genesis drawn at {@code now} with {@code seed}, on top of what the replica's configuration gives. */
    static Genesis.Builder draw(Genesis.Builder configured, Instant now, byte[] seed, long graceNanos) {
        long epoch = PageStore.epochSecond(now);
        return configured.setTokenEpoch(epoch).setFirstToken((int) PagerOptions.firstTokenAt(epoch, epoch, now))
                .setGraceNanos(graceNanos).setTokenSeed(ByteString.copyFrom(seed));
    }

    /** The objects as a genesis keeps them, in the order given. */
    static GenesisObjects objects(Map<String, Long> objects) {
        GenesisObjects.Builder b = GenesisObjects.newBuilder();
        objects.forEach((name, size) -> b.addObject(GenesisObject.newBuilder().setName(name).setSize(size)));
        return b.build();
    }

    /**
     * Checks that a replica of pager {@code name} configured with {@code objects} may build its
     * core from {@code g}: throws, saying which objects differ, if they are not the group's.
     */
    static void checkObjects(Genesis g, Map<String, Long> objects, String name, String replicaId) {
        if (!g.hasObjects()) {
            log.warn("pager {} replica {}: the group's genesis names no objects (a log written before genesis kept "
                    + "them): this replica's objects {} are not checked against the other replicas'; give every "
                    + "replica the same", name, replicaId, objects);
            return;
        }
        Map<String, Long> group = new LinkedHashMap<>();
        for (GenesisObject o : g.getObjects().getObjectList()) {
            group.put(o.getName(), o.getSize());
        }
        if (!group.equals(objects)) {
            throw new IllegalStateException("the group's objects are " + group + " (its genesis) and this replica is "
                    + "configured with " + objects + ": give every replica the group's objects (--object NAME=SIZE)");
        }
    }

    /** The session token number {@code count} of a group whose genesis seed is {@code seed}: SHA-256 of both (0 is skipped by the caller). */
    static long sessionToken(byte[] seed, long count) {
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            sha.update(seed);
            sha.update(java.nio.ByteBuffer.allocate(Long.BYTES).putLong(count).array());
            return java.nio.ByteBuffer.wrap(sha.digest()).getLong();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
