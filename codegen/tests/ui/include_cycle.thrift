include "include/cycle_a.thrift"
