/*
 * schema.h - the NanoClaw v2 schemas of SPEC §1, written once. clawsweep
 * itself never creates these tables (they belong to the host and the
 * agent); the demo, the reference agent, the tests and the benchmarks do,
 * and must all create the very same ones. Plain DDL, IF NOT EXISTS, no
 * pragmas: the caller sets the journal mode.
 */
#ifndef CLAWSWEEP_SCHEMA_H
#define CLAWSWEEP_SCHEMA_H

extern const char SCHEMA_CENTRAL[];  /* v2.db: agent_groups, sessions */
extern const char SCHEMA_INBOUND[];  /* inbound.db */
extern const char SCHEMA_OUTBOUND[]; /* outbound.db */

#endif
