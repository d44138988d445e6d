include "include/nowhere.thrift"            // M0200
