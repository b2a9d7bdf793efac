package simulator

// The vocabulary's word list. Each word is added as is, with a leading space,
// capitalised, and capitalised with a leading space, so ordinary English
// prose tokenizes into mostly whole words while rarer words split into
// sub-word pieces and anything else falls back to byte tokens.
const vocabWords = `
the of and to in is was for that on as with by at from his her it an are were
be this which or had not but have has one all their they there been who also
its more when into other would than only some time first can out two about
new after what most many these such over used may then people between during
world under where made well both since being three because years later through
while before year any each like part same state city however known called
used united during several states including until early school century
while life work system government against use number often day high war
form four group around must could long while area although five even name
national law following end set small made large among based water within
american english another without second well played game public make found
did will until music around including family last now them him how those
down very city should just much here little good without take back way
much great old right still own such place where same off go see came
come know get give take make say said seem find show think tell use want
look ask need feel try leave call keep let begin help talk turn start
answer question choice correct true false none above below option following
best describes which what why who whom whose how many much because therefore
example answer answers questions choose select statement statements
man woman men women child children person people human animal animals
plant plants cell cells energy light heat force mass speed time space
earth sun moon star stars planet planets air water fire rock rocks soil
food blood body brain heart hand hands head eye eyes face foot feet
house home room door window table chair bed car road street town country
land sea river lake mountain tree trees flower flowers grass wood paper
money price cost market business company bank trade job work worker
history science math mathematics physics chemistry biology economics
philosophy psychology medicine health disease patient doctor hospital
law court judge case right rights freedom power president king queen
war army battle peace nation nations church god religion language word
words sentence letter letters number numbers value values point points
line lines figure figures table data result results effect effects cause
process method theory model models test tests study studies research
problem problems solution solutions reason reasons idea ideas fact facts
information knowledge experience student students teacher teachers class
level levels rate rates change changes increase decrease growth size
order type types kind kinds sort way ways means end ends side sides
small large big little long short high low old young new good bad best
better worse worst great important different possible likely able
certain clear common simple hard easy full free general political social
economic public private local national international human natural
real whole main major minor final total single special similar
open close closed early late recent strong weak hot cold warm dark
black white red blue green yellow brown gray
then than when where while whether either neither both each every
zero one two three four five six seven eight nine ten hundred thousand
million first second third last next
january february march april may june july august september october
november december monday tuesday wednesday thursday friday saturday sunday
paris london france england germany china japan india america europe
spain italy russia canada africa asia australia
it he she we you they me us them my your our its mine yours
is am are was were be been being do does did done have has had having
not no yes can could will would shall should may might must
in on at by for with about against between into through during before
after above below to from up down out off over under again further
and but or so nor yet if because as until of than
this that these those there here what which who whom
all any some few more most other such only own same
very too also just now even still already always never often sometimes
`

// vocabSubwords are pieces without a leading space that finish words the
// word list lacks (greedy longest match picks them after a shorter prefix).
const vocabSubwords = `
ing ed er ers est ly tion tions ation ations ative ity ities ment ments
ness less ful able ible al ial ous ious ive ize ise ized ism ist ists
ence ance ent ant ic ical ics ship hood ward wards age ages ure ures
ory ary ery ies es s re un in im dis pre pro con com ex de en em
th st nd rd gh ch sh ph qu ck ng nt ll ss tt pp rr ee oo
`

// vocabSpacedPieces are sub-word starts with a leading space, so common
// words missing from the list (" generative", " generation") still begin
// with a multi-letter piece.
const vocabSpacedPieces = `
gener trans inter under over super anti auto bio geo micro photo tele
pre pro con com dis un re in im ex de en
th st ch sh wh pl pr tr gr br cr dr fr bl cl fl gl sl sp sc sk sm sn sw
`

// vocabMultibyte are a few common non-ASCII characters that get their own
// token; every other non-ASCII character goes through byte tokens.
var vocabMultibyte = []string{
	"é", "è", "à", "ü", "ö", "ä", "ñ", "ç", "ß",
	"—", "–", "’", "‘", "“", "”", "…", "°", "€", "£", "×", "÷", "π", "µ",
}

// vocabSpacedPunct are punctuation marks that commonly follow a space.
var vocabSpacedPunct = []string{
	" (", " \"", " '", " -", " [", " $", " &", " +", " =", " <", " *", " /", " {", " #", " %", " @",
}

// vocabWhitespace are whitespace runs with their own token (the single
// characters are byte tokens already).
var vocabWhitespace = []string{
	"\n\n", "\n\n\n", "\r\n", "\r\n\r\n", "  ", "   ", "    ", "        ", "\t\t",
}
