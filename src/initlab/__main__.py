from initlab.entry import main

main()
