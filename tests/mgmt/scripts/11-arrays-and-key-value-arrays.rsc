# Arrays: literals, ->, :set of an element, :len, :pick, :find, concatenation with ",".
:local nums {3;1;4;1;5}
:put [:len $nums]
:put [:pick $nums 2]
:put [:pick $nums 1 3]
:put [:find $nums 1]
:put ($nums,{9;2})
:local cfg {mode="tunnel";level="require"}
:set ($cfg->"proposal") "default"
:put $cfg
:put ($cfg->"mode")
:foreach k,v in=$cfg do={ :put "$k => $v" }
:local nested {a={1;2};b=3}
:put ($nested->"a"->1)
:put [:typeof ($nested->"missing")]
