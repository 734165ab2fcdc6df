/// The roots of the passwords people pick most, from what breach studies have reported again and
/// again (words, names, keyboard walks, teams, pets, phrases), written for VideoStack rather
/// than copied from any published file.
///
/// ``PasswordPolicy`` expands them at load time with the decorations people add (a capital
/// first letter, digits and years, `!`, look-alike substitutions such as `p@ssw0rd`) and refuses
/// any password that is one of these roots once its decorations are stripped, which covers
/// many thousands of the most frequent passwords with a list this short.
enum CommonPasswords {
    static let roots: [String] = """
    password passwort passw0rd motdepasse contrasena senha wachtwoord salasana haslo parola lozinka \
    admin administrator root toor guest user login welcome letmein access master default changeme secret \
    private qwerty qwertz azerty qwertyuiop asdfgh asdfghjkl zxcvbn zxcvbnm qazwsx qweasd qweasdzxc \
    1qaz2wsx 1q2w3e4r 1q2w3e4r5t zaq12wsx zaq1xsw2 q1w2e3r4 a1b2c3d4 abc123 abcdef abcdefg abcdefgh \
    iloveyou iloveu loveyou lovely loveme ilovegod ilovemom ihateyou trustno1 whatever nothing \
    sunshine shadow monkey dragon princess football baseball basketball soccer hockey tennis golfer \
    superman batman spiderman ironman wolverine hulk pokemon pikachu starwars startrek matrix \
    mustang ferrari porsche corvette mercedes harley yamaha kawasaki chevy camaro jaguar \
    michael jennifer jordan jessica ashley daniel robert thomas charlie andrew joshua matthew \
    anthony william david richard joseph christopher nicole michelle amanda melissa stephanie \
    elizabeth samantha jasmine justin hannah taylor maggie ginger buster tigger bailey \
    jackson austin brandon hunter ranger thunder summer winter autumn spring flower \
    freedom liberty america canada england london paris berlin madrid mexico brazil \
    chicago dallas boston texas florida california newyork jersey miami \
    killer hello hello123 hellokitty kitty kitten puppy doggie doggy bulldog tiger lion \
    eagle falcon phoenix raptor cobra viper python panther bear wolf fox \
    chocolate cookie cupcake candy sugar honey peanut banana apple orange cherry lemon \
    strawberry blueberry pepper butter cheese pizza coffee \
    computer internet laptop google facebook youtube twitter instagram yahoo hotmail gmail \
    microsoft windows linux iphone samsung nokia android \
    music guitar piano rockstar rocknroll metallica nirvana beatles eminem \
    forever together family friends friend angel angels heaven blessed jesus christ \
    lucky lucky7 money dollar diamond golden silver gold platinum \
    secret1 mypassword mypass pass pass123 passpass test test123 testing tester demo \
    temp temppass sample example qwerty123 asdf asdf1234 zxcv \
    batman1 superstar star stars starlight moonlight sunset sunrise rainbow \
    butterfly dolphin turtle bunny rabbit horse pony unicorn \
    purple yellow green blue black white red pink \
    maverick merlin wizard magic gandalf hobbit frodo harrypotter hogwarts \
    naruto sasuke goku vegeta dragonball onepiece anime manga \
    minecraft fortnite roblox zelda mario luigi sonic halo callofduty warcraft \
    arsenal chelsea liverpool manchester barcelona realmadrid juventus \
    yankees redsox cowboys steelers packers lakers celtics bulls raiders \
    qwerty1 qwerty12 asd123 aaa111 abc12345 abcd1234 \
    jordan23 michael1 charlie1 shadow1 monkey1 dragon1 \
    welcome1 letmein1 master1 admin1 root123 \
    soccer1 baseball1 football1 \
    happy smile smiley funny crazy cool sexy hottie cutie \
    babygirl babyboy baby princesa mylove lover sweetheart sweetie darling \
    single married wifey hubby mommy daddy mother father sister brother \
    school student teacher college summer2024 \
    videostack video videos stream streaming upload movies movie cinema netflix \
    junior senior buddy champ champion winner victory legend hero \
    ninja samurai pirate knight soldier warrior hunter2 \
    spartan viking titan zeus apollo athena hercules odin thor loki \
    cowboy rebel outlaw bandit gangster \
    galaxy planet cosmos universe rocket nasa \
    ocean river mountain forest island beach desert \
    snowball snowflake frozen elsa disney mickey minnie \
    scooby garfield snoopy simpson bart homer \
    captain sparky rocky duke max buddy1 oliver lucy bella daisy molly sadie chloe \
    charlie2 coco luna milo teddy toby zoey \
    access14 trustme letmeinnow opensesame \
    qwe123 asdqwe zaqwsx poiuytrewq lkjhgfdsa mnbvcxz \
    monday tuesday friday sunday weekend holiday january february december \
    ghbdtn ytrewq qwert trewq \
    alexander victoria anastasia natasha nikita sergey dmitry ivan olga \
    maria mariana carlos jose juan luis pedro miguel fernando \
    mohammed ahmed ali fatima \
    soleil chouchou doudou bonjour amour \
    schatz hallo liebe \
    ciao amore tesoro \
    beautiful gorgeous handsome pretty awesome amazing perfect \
    whatever1 \
    cheese1 pepper1 ginger1 \
    secure security safety protect protected shield \
    network server system database oracle mysql postgres \
    compaq dell lenovo toshiba sony
    """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)

    /// Keyboard rows and walks that appear in passwords whole or in part.
    static let keyboardRows = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "azertyuiop", "0987654321"]
}
