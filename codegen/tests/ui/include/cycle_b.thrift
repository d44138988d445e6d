include "cycle_a.thrift"                    // M0201
