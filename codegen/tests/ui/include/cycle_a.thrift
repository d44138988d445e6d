include "cycle_b.thrift"
